// Reads PyTorch's `torch.save` files (pytorch_model.bin) as named tensors, without
// executing anything. Two containers: the zip archive torch ≥ 1.6 writes
// (`<name>/data.pkl` + one raw little-endian file per storage under `<name>/data/`)
// and the legacy stream torch < 1.6 wrote (magic pickle, protocol pickle, sys-info
// pickle, the object pickle, the storage-key list, then each storage as an 8-byte
// element count and its bytes). The pickle is interpreted by a small VM whose only
// callables are the ones torch's tensor rebuilding needs: `collections.OrderedDict`,
// `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter` and the
// `torch.*Storage` types named in persistent ids. Any other global (`os.system`,
// `builtins.eval`, …) is refused by name before anything could run.
// A tensor is storage[offset + Σ idx_i·stride_i]; it is gathered into a contiguous
// buffer. Takes the file's bytes; returns the same tensor records as safetensors.ts.
// Writing: the zip container torch.save writes by default (stored entries, pickle
// protocol 2, one storage per tensor), which torch.load reads with weights_only too.

import { readFile } from 'node:fs/promises';
import { unzipSync, zipSync } from 'fflate';
import { writeFileAtomic } from '../io/atomic.js';
import type { SafeDType, SafeTensor } from './safetensors.js';

export class TorchPickleError extends Error {
  override name = 'TorchPickleError';
}

/** Torch storage type name → dtype of its elements. */
const STORAGE_DTYPES: Readonly<Record<string, SafeDType>> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8',
  ByteStorage: 'U8', BoolStorage: 'BOOL',
};

const ITEM_SIZE: Readonly<Record<SafeDType, number>> = {
  F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Callables the VM may apply (REDUCE); everything else named by a pickle is refused. */
const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
]);

interface PyGlobal { kind: 'global'; module: string; name: string }
interface PyTuple { kind: 'tuple'; items: PyValue[] }
interface PyList { kind: 'list'; items: PyValue[] }
interface PyDict { kind: 'dict'; entries: Map<string | number, PyValue> }
interface PyStorage { kind: 'storage'; dtype: SafeDType; key: string; numel: number }
interface PyTensor { kind: 'tensor'; storage: PyStorage; offset: number; size: number[]; stride: number[] }
type PyValue = null | boolean | number | bigint | string | Uint8Array | PyGlobal | PyTuple | PyList | PyDict | PyStorage | PyTensor;

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind === 'global' ? `${v.module}.${v.name}` : v.kind;
  return typeof v;
}

/** The pickle VM: runs one pickle from `start`, returns its value and where it stopped. */
class Unpickler {
  private pos: number;
  private readonly stack: StackItem[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly file: string,
    private readonly persistentLoad: (pid: PyValue) => PyValue,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get position(): number {
    return this.pos;
  }

  private fail(msg: string): never {
    throw new TorchPickleError(`${this.file}: ${msg}`);
  }

  private need(n: number): number {
    if (this.pos + n > this.buf.length) this.fail(`the pickle ends early at byte ${this.pos}; the file is truncated or corrupt (download or save it again)`);
    const p = this.pos;
    this.pos += n;
    return p;
  }
  private u8(): number { return this.buf[this.need(1)]; }
  private u16(): number { return this.view.getUint16(this.need(2), true); }
  private u32(): number { return this.view.getUint32(this.need(4), true); }
  private i32(): number { return this.view.getInt32(this.need(4), true); }
  private bytes(n: number): Uint8Array { const p = this.need(n); return this.buf.subarray(p, p + n); }
  private line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('a text opcode has no end of line; the pickle is corrupt');
    const s = new TextDecoder().decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  private utf8(n: number): string { return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(n)); }

  private pop(): PyValue {
    const v = this.stack.pop();
    if (v === undefined || v === MARK) this.fail('the pickle pops an empty stack; it is corrupt');
    return v;
  }
  private top(): PyValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) this.fail('the pickle reads an empty stack; it is corrupt');
    return v;
  }
  private popMark(): PyValue[] {
    const i = this.stack.lastIndexOf(MARK);
    if (i < 0) this.fail('the pickle has no MARK where one is needed; it is corrupt');
    const items = this.stack.splice(i) as PyValue[];
    items.shift();
    return items;
  }
  private push(v: PyValue): void { this.stack.push(v); }

  private global(module: string, name: string): PyGlobal {
    const full = `${module}.${name}`;
    if (CALLABLES.has(full) || (module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name))) {
      return { kind: 'global', module, name };
    }
    this.fail(`the pickle names the global ${full}, which a tensor file does not need; refusing to load it (nothing was executed). Load only files you trust in Python, and re-save them as model.safetensors`);
  }

  private setItem(d: PyValue, k: PyValue, v: PyValue): void {
    if (typeof d !== 'object' || d === null || !('kind' in d) || d.kind !== 'dict') this.fail(`SETITEM on a ${describe(d)}; only dictionaries are supported`);
    if (typeof k !== 'string' && typeof k !== 'number') this.fail(`a dictionary key of type ${describe(k)}; tensor files use string keys`);
    d.entries.set(k, v);
  }

  private call(f: PyValue, args: PyValue): PyValue {
    if (typeof f !== 'object' || f === null || !('kind' in f) || f.kind !== 'global') this.fail(`REDUCE on a ${describe(f)}, which is not callable`);
    if (typeof args !== 'object' || args === null || !('kind' in args) || args.kind !== 'tuple') this.fail('REDUCE without an argument tuple; the pickle is corrupt');
    const a = args.items;
    const full = `${f.module}.${f.name}`;
    if (full === 'collections.OrderedDict') {
      const d: PyDict = { kind: 'dict', entries: new Map() };
      if (a.length > 0) {
        const pairs = a[0];
        if (typeof pairs !== 'object' || pairs === null || !('kind' in pairs) || (pairs.kind !== 'list' && pairs.kind !== 'tuple')) this.fail('OrderedDict built from something other than a list of pairs');
        for (const p of pairs.items) {
          if (typeof p !== 'object' || p === null || !('kind' in p) || p.kind !== 'tuple' || p.items.length !== 2) this.fail('OrderedDict built from something other than pairs');
          this.setItem(d, p.items[0], p.items[1]);
        }
      }
      return d;
    }
    if (full === 'torch._utils._rebuild_tensor_v2') {
      const [storage, offset, size, stride] = a;
      if (typeof storage !== 'object' || storage === null || !('kind' in storage) || storage.kind !== 'storage') this.fail('_rebuild_tensor_v2 without a storage');
      return { kind: 'tensor', storage, offset: this.int(offset, 'storage offset'), size: this.ints(size, 'size'), stride: this.ints(stride, 'stride') };
    }
    if (full === 'torch._utils._rebuild_parameter') {
      const t = a[0];
      if (typeof t !== 'object' || t === null || !('kind' in t) || t.kind !== 'tensor') this.fail('_rebuild_parameter without a tensor');
      return t;
    }
    this.fail(`the pickle calls ${full}, which is not a tensor-rebuilding function; refusing it (nothing was executed)`);
  }

  private int(v: PyValue, what: string): number {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    this.fail(`tensor ${what} ${describe(v)} is not a non-negative integer`);
  }
  private ints(v: PyValue, what: string): number[] {
    if (typeof v !== 'object' || v === null || !('kind' in v) || v.kind !== 'tuple') this.fail(`tensor ${what} is not a tuple`);
    return v.items.map((x) => this.int(x, what));
  }

  private long(b: Uint8Array): number | bigint {
    if (b.length === 0) return 0;
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) n -= 1n << BigInt(8 * b.length);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }

  run(): PyValue {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: this.u8(); break; // PROTO
        case 0x95: this.need(8); break; // FRAME
        case 0x2e: return this.pop(); // STOP
        case 0x28: this.stack.push(MARK); break; // MARK
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.push(this.top()); break; // DUP
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x4a: this.push(this.i32()); break; // BININT
        case 0x8a: this.push(this.long(this.bytes(this.u8()))); break; // LONG1
        case 0x8b: this.push(this.long(this.bytes(this.i32()))); break; // LONG4
        case 0x49: { // INT (text)
          const s = this.line();
          this.push(s === '00' ? false : s === '01' ? true : Number.parseInt(s, 10));
          break;
        }
        case 0x4c: this.push(Number.parseInt(this.line().replace(/L$/, ''), 10)); break; // LONG (text)
        case 0x47: this.push(this.view.getFloat64(this.need(8), false)); break; // BINFLOAT
        case 0x58: this.push(this.utf8(this.u32())); break; // BINUNICODE
        case 0x8c: this.push(this.utf8(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: { const n = this.view.getBigUint64(this.need(8), true); this.push(this.utf8(Number(n))); break; } // BINUNICODE8
        case 0x54: this.push(new TextDecoder('latin1').decode(this.bytes(this.i32()))); break; // BINSTRING
        case 0x55: this.push(new TextDecoder('latin1').decode(this.bytes(this.u8()))); break; // SHORT_BINSTRING
        case 0x42: this.push(this.bytes(this.u32())); break; // BINBYTES
        case 0x43: this.push(this.bytes(this.u8())); break; // SHORT_BINBYTES
        case 0x29: this.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
        case 0x85: this.push({ kind: 'tuple', items: [this.pop()] }); break; // TUPLE1
        case 0x86: { const b = this.pop(); const a = this.pop(); this.push({ kind: 'tuple', items: [a, b] }); break; } // TUPLE2
        case 0x87: { const c = this.pop(); const b = this.pop(); const a = this.pop(); this.push({ kind: 'tuple', items: [a, b, c] }); break; } // TUPLE3
        case 0x74: this.push({ kind: 'tuple', items: this.popMark() }); break; // TUPLE
        case 0x5d: this.push({ kind: 'list', items: [] }); break; // EMPTY_LIST
        case 0x6c: this.push({ kind: 'list', items: this.popMark() }); break; // LIST
        case 0x61: { // APPEND
          const v = this.pop();
          const l = this.top();
          if (typeof l !== 'object' || l === null || !('kind' in l) || l.kind !== 'list') this.fail(`APPEND on a ${describe(l)}`);
          l.items.push(v);
          break;
        }
        case 0x65: { // APPENDS
          const vs = this.popMark();
          const l = this.top();
          if (typeof l !== 'object' || l === null || !('kind' in l) || l.kind !== 'list') this.fail(`APPENDS on a ${describe(l)}`);
          l.items.push(...vs);
          break;
        }
        case 0x7d: this.push({ kind: 'dict', entries: new Map() }); break; // EMPTY_DICT
        case 0x64: { // DICT
          const items = this.popMark();
          const d: PyDict = { kind: 'dict', entries: new Map() };
          for (let i = 0; i + 1 < items.length; i += 2) this.setItem(d, items[i], items[i + 1]);
          this.push(d);
          break;
        }
        case 0x73: { const v = this.pop(); const k = this.pop(); this.setItem(this.top(), k, v); break; } // SETITEM
        case 0x75: { // SETITEMS
          const items = this.popMark();
          const d = this.top();
          for (let i = 0; i + 1 < items.length; i += 2) this.setItem(d, items[i], items[i + 1]);
          break;
        }
        case 0x71: this.memo.set(this.u8(), this.top()); break; // BINPUT
        case 0x72: this.memo.set(this.u32(), this.top()); break; // LONG_BINPUT
        case 0x94: this.memo.set(this.memo.size, this.top()); break; // MEMOIZE
        case 0x70: this.memo.set(Number.parseInt(this.line(), 10), this.top()); break; // PUT
        case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
          const k = op === 0x68 ? this.u8() : op === 0x6a ? this.u32() : Number.parseInt(this.line(), 10);
          if (!this.memo.has(k)) this.fail(`the pickle reads memo slot ${k}, which was never written; it is corrupt`);
          this.push(this.memo.get(k) as PyValue);
          break;
        }
        case 0x63: { const module = this.line(); const name = this.line(); this.push(this.global(module, name)); break; } // GLOBAL
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL without string names');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: { const args = this.pop(); const f = this.pop(); this.push(this.call(f, args)); break; } // REDUCE
        case 0x81: { const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, args)); break; } // NEWOBJ
        case 0x62: { // BUILD: state on an OrderedDict (its `_metadata` attribute) is kept out
          const state = this.pop();
          const obj = this.top();
          if (typeof obj !== 'object' || obj === null || !('kind' in obj) || (obj.kind !== 'dict' && obj.kind !== 'tensor')) {
            this.fail(`BUILD on a ${describe(obj)}; only dictionaries and tensors carry state in a tensor file`);
          }
          void state;
          break;
        }
        case 0x51: this.push(this.persistentLoad(this.pop())); break; // BINPERSID
        case 0x50: this.push(this.persistentLoad(this.line())); break; // PERSID
        default:
          this.fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at} (objects other than tensors and dictionaries are not read)`);
      }
    }
  }
}

function storageFromPid(pid: PyValue, file: string, legacy: boolean): PyStorage {
  if (typeof pid !== 'object' || pid === null || !('kind' in pid) || pid.kind !== 'tuple' || pid.items[0] !== 'storage') {
    throw new TorchPickleError(`${file}: a persistent id that is not a tensor storage (${describe(pid)}); refusing it`);
  }
  const [, type, key, , numel, viewMeta] = pid.items;
  if (typeof type !== 'object' || type === null || !('kind' in type) || type.kind !== 'global' || type.module !== 'torch' || !STORAGE_DTYPES[type.name]) {
    throw new TorchPickleError(`${file}: a storage of type ${describe(type)} is not supported`);
  }
  if (legacy && viewMeta !== undefined && viewMeta !== null) {
    throw new TorchPickleError(`${file}: storage views of the legacy torch format are not supported; re-save the file with torch ≥ 1.6 or as safetensors`);
  }
  const n = typeof numel === 'bigint' ? Number(numel) : numel;
  if (typeof key !== 'string' || typeof n !== 'number') throw new TorchPickleError(`${file}: a storage id without key or size; the file is corrupt`);
  return { kind: 'storage', dtype: STORAGE_DTYPES[type.name], key, numel: n };
}

/** Gathers a strided view of `storage` into contiguous bytes. */
function materialize(t: PyTensor, bytes: Uint8Array, name: string, file: string): SafeTensor {
  const item = ITEM_SIZE[t.storage.dtype];
  const { size, stride, offset } = t;
  if (size.length !== stride.length) throw new TorchPickleError(`${file}: tensor "${name}" has ${size.length} sizes but ${stride.length} strides`);
  const numel = size.reduce((a, b) => a * b, 1);
  if (bytes.length < t.storage.numel * item) throw new TorchPickleError(`${file}: storage ${t.storage.key} of tensor "${name}" holds ${bytes.length} bytes, fewer than its ${t.storage.numel} elements need; the file is truncated`);
  let last = offset;
  for (let i = 0; i < size.length; i++) if (size[i] > 0) last += (size[i] - 1) * stride[i];
  if (numel > 0 && last >= t.storage.numel) throw new TorchPickleError(`${file}: tensor "${name}" reaches element ${last} of a storage of ${t.storage.numel}; the file is corrupt`);
  let contiguous = true;
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= size[i];
  }
  if (contiguous) return { dtype: t.storage.dtype, shape: size, data: bytes.slice(offset * item, (offset + numel) * item) };
  const out = new Uint8Array(numel * item);
  const idx = new Array<number>(size.length).fill(0);
  for (let k = 0; k < numel; k++) {
    let src = offset;
    for (let i = 0; i < size.length; i++) src += idx[i] * stride[i];
    out.set(bytes.subarray(src * item, (src + 1) * item), k * item);
    for (let i = size.length - 1; i >= 0; i--) {
      if (++idx[i] < size[i]) break;
      idx[i] = 0;
    }
  }
  return { dtype: t.storage.dtype, shape: size, data: out };
}

function stateDict(root: PyValue, file: string, storageBytes: (s: PyStorage) => Uint8Array): Map<string, SafeTensor> {
  if (typeof root !== 'object' || root === null || !('kind' in root) || root.kind !== 'dict') {
    throw new TorchPickleError(`${file}: the file holds a ${describe(root)}, not a state dict of tensors`);
  }
  const out = new Map<string, SafeTensor>();
  for (const [k, v] of root.entries) {
    if (typeof v !== 'object' || v === null || !('kind' in v) || v.kind !== 'tensor') {
      throw new TorchPickleError(`${file}: entry "${String(k)}" is a ${describe(v)}, not a tensor; only flat state dicts of tensors are read`);
    }
    out.set(String(k), materialize(v, storageBytes(v.storage), String(k), file));
  }
  return out;
}

function fromZip(buf: Uint8Array, file: string): Map<string, SafeTensor> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(buf);
  } catch (e) {
    throw new TorchPickleError(`${file}: the zip archive cannot be read (${(e as Error).message}); the file is truncated or corrupt`);
  }
  const pkl = Object.keys(entries).find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new TorchPickleError(`${file}: a zip archive without <name>/data.pkl; not a file written by torch.save`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little') throw new TorchPickleError(`${file}: big-endian tensors are not supported; re-save on a little-endian machine`);
  const root = new Unpickler(entries[pkl], 0, file, (pid) => storageFromPid(pid, file, false)).run();
  return stateDict(root, file, (s) => {
    const b = entries[`${prefix}data/${s.key}`];
    if (!b) throw new TorchPickleError(`${file}: storage ${prefix}data/${s.key} is missing from the archive`);
    return b;
  });
}

function fromLegacy(buf: Uint8Array, file: string): Map<string, SafeTensor> {
  let p = 0;
  const next = (load: (pid: PyValue) => PyValue): PyValue => {
    const u = new Unpickler(buf, p, file, load);
    const v = u.run();
    p = u.position;
    return v;
  };
  const refuse = (): PyValue => { throw new TorchPickleError(`${file}: a persistent id outside the object pickle; the file is corrupt`); };
  const magic = next(refuse);
  if (typeof magic !== 'bigint' || magic !== 0x1950a86a20f9469cfc6cn) throw new TorchPickleError(`${file}: not a torch.save file (neither a zip archive nor the legacy format's magic number)`);
  const protocol = next(refuse);
  if (protocol !== 1001) throw new TorchPickleError(`${file}: legacy protocol version ${String(protocol)} is not supported (expected 1001)`);
  next(refuse); // sys info: endianness and type sizes
  const storages = new Map<string, PyStorage>();
  const root = next((pid) => {
    const s = storageFromPid(pid, file, true);
    const have = storages.get(s.key);
    if (have) return have;
    storages.set(s.key, s);
    return s;
  });
  const keys = next(refuse);
  if (typeof keys !== 'object' || keys === null || !('kind' in keys) || keys.kind !== 'list') throw new TorchPickleError(`${file}: the storage key list is missing; the file is corrupt`);
  const data = new Map<string, Uint8Array>();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const k of keys.items) {
    const s = storages.get(String(k));
    if (!s) throw new TorchPickleError(`${file}: storage ${String(k)} is listed but no tensor uses it`);
    if (p + 8 > buf.length) throw new TorchPickleError(`${file}: the file ends before storage ${String(k)}; it is truncated`);
    const n = Number(view.getBigInt64(p, true));
    p += 8;
    const len = n * ITEM_SIZE[s.dtype];
    if (p + len > buf.length) throw new TorchPickleError(`${file}: the file ends inside storage ${String(k)}; it is truncated`);
    data.set(s.key, buf.subarray(p, p + len));
    p += len;
  }
  return stateDict(root, file, (s) => {
    const b = data.get(s.key);
    if (!b) throw new TorchPickleError(`${file}: storage ${s.key} has no data; the file is truncated`);
    return b;
  });
}

/** Parses torch.save bytes (zip or legacy) into named tensors; `file` names the file in errors. */
export function parseTorchFile(buf: Uint8Array, file: string): Map<string, SafeTensor> {
  if (buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04) return fromZip(buf, file);
  if (buf.length >= 2 && buf[0] === 0x80) return fromLegacy(buf, file);
  throw new TorchPickleError(`${file}: not a torch.save file (neither a zip archive nor a pickle); download or save it again`);
}

/** Reads a pytorch_model.bin from disk. */
export async function readTorchFile(path: string): Promise<Map<string, SafeTensor>> {
  return parseTorchFile(new Uint8Array(await readFile(path)), path);
}

// ------------------------------------------------------------------ writing

const STORAGE_NAMES: Readonly<Record<SafeDType, string>> = Object.fromEntries(
  Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Record<SafeDType, string>;

/** Pickle protocol 2 bytes of an OrderedDict of tensors, each in its own storage "0", "1", …. */
function pickleStateDict(names: readonly string[], tensors: ReadonlyMap<string, SafeTensor>): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  const u32 = (n: number): void => { out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff); };
  const str = (s: string): void => { const b = enc.encode(s); out.push(0x58); u32(b.length); for (const x of b) out.push(x); };
  const global = (module: string, name: string): void => { out.push(0x63, ...enc.encode(`${module}\n${name}\n`)); };
  const int = (n: number): void => {
    if (n < 256) out.push(0x4b, n);
    else if (n < 2 ** 31) { out.push(0x4a); u32(n); }
    else {
      // LONG1: little-endian two's complement
      const bytes: number[] = [];
      let v = BigInt(n);
      while (v > 0n) { bytes.push(Number(v & 0xffn)); v >>= 8n; }
      if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
      out.push(0x8a, bytes.length, ...bytes);
    }
  };
  const tuple = (items: readonly number[]): void => { out.push(0x28); for (const x of items) int(x); out.push(0x74); };
  out.push(0x80, 0x02); // PROTO 2
  global('collections', 'OrderedDict');
  out.push(0x29, 0x52); // () REDUCE
  out.push(0x28); // MARK
  names.forEach((name, key) => {
    const t = tensors.get(name)!;
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    str(name);
    global('torch._utils', '_rebuild_tensor_v2');
    out.push(0x28); // MARK (arguments)
    out.push(0x28); // MARK (persistent id)
    str('storage');
    global('torch', STORAGE_NAMES[t.dtype]);
    str(String(key));
    str('cpu');
    int(numel);
    out.push(0x74, 0x51); // TUPLE BINPERSID
    int(0);
    tuple(t.shape);
    tuple(stride);
    out.push(0x89); // requires_grad False
    global('collections', 'OrderedDict');
    out.push(0x29, 0x52); // backward hooks: OrderedDict()
    out.push(0x74, 0x52); // TUPLE REDUCE
  });
  out.push(0x75, 0x2e); // SETITEMS STOP
  return Uint8Array.from(out);
}

/** Serializes named tensors as torch.save(OrderedDict) does; `archive` is the folder name inside the zip. */
export function serializeTorchFile(tensors: ReadonlyMap<string, SafeTensor>, archive = 'pytorch_model'): Uint8Array {
  const names = [...tensors.keys()];
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  const add = (name: string, data: Uint8Array): void => { files[`${archive}/${name}`] = [data, { level: 0 }]; };
  add('data.pkl', pickleStateDict(names, tensors));
  add('byteorder', new TextEncoder().encode('little'));
  names.forEach((n, i) => add(`data/${i}`, tensors.get(n)!.data));
  add('version', new TextEncoder().encode('3\n'));
  return zipSync(files);
}

/** Writes pytorch_model.bin atomically. */
export async function writeTorchFile(path: string, tensors: ReadonlyMap<string, SafeTensor>): Promise<void> {
  await writeFileAtomic(path, serializeTorchFile(tensors));
}
