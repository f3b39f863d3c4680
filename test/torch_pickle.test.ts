// Tests for the restricted pytorch_model.bin reader against files written by torch 2.13
// (scripts/reference/make_interop_fixtures.py): every dtype, a 0-d tensor, a transposed view,
// a slice sharing another tensor's storage, the legacy stream format, and pickles that name
// os.system / builtins.eval, which must be refused by name with nothing executed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTorchFile, readTorchFile, TorchPickleError } from '../src/models/torch_pickle.js';
import { toFloat32, type SafeTensor } from '../src/models/safetensors.js';

const DIR = resolve('test', 'fixtures', 'torch_pickle');
interface Expected { dtype: string; shape: number[]; values: number[] }
const expected = (JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { tensors: Record<string, Expected> }).tensors;

function values(t: SafeTensor, name: string): number[] {
  if (t.dtype === 'I64') return Array.from(new BigInt64Array(t.data.slice().buffer), Number);
  if (t.dtype === 'BOOL') return Array.from(t.data);
  return Array.from(toFloat32(t, name));
}

function checkAll(file: string): void {
  test(`${file}: every tensor's dtype, shape and values equal torch's`, async () => {
    const got = await readTorchFile(join(DIR, file));
    assert.deepEqual([...got.keys()].sort(), Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      const t = got.get(name)!;
      assert.equal(t.dtype, e.dtype, name);
      assert.deepEqual(t.shape, e.shape, name);
      const v = values(t, name);
      assert.equal(v.length, e.values.length, name);
      // float16/bfloat16 values were written by torch as float32 of the same number: exact
      for (let i = 0; i < v.length; i++) assert.equal(v[i], Math.fround(e.values[i]), `${name}[${i}]`);
    }
  });
}

checkAll('zip.bin');
checkAll('legacy.bin');

for (const [file, global] of [['malicious_system.bin', 'posix.system'], ['malicious_eval.bin', '__builtin__.eval'], ['malicious_legacy.bin', 'posix.system']] as const) {
  test(`${file}: the global ${global} is refused by name and nothing runs`, async () => {
    await assert.rejects(readTorchFile(join(DIR, file)), (e: unknown) => {
      assert.ok(e instanceof TorchPickleError, String(e));
      assert.ok(e.message.includes(join(DIR, file)), e.message);
      assert.ok(e.message.includes(`global ${global}`), e.message);
      assert.ok(e.message.includes('nothing was executed'), e.message);
      return true;
    });
    assert.equal(existsSync(join(DIR, 'PWNED')), false);
  });
}

test('hand-made pickles: an unknown global, a non-tensor entry, truncation and garbage are clear errors', () => {
  const enc = new TextEncoder();
  // protocol 2: GLOBAL 'subprocess\nrun\n' then STOP
  const evil = Uint8Array.from([0x80, 0x02, 0x63, ...enc.encode('subprocess\nrun\n'), 0x2e]);
  assert.throws(() => parseTorchFile(evil, 'evil.bin'), /evil\.bin: .*global subprocess\.run/);
  // {'a': 1}: a state dict entry that is not a tensor
  const notTensor = Uint8Array.from([0x80, 0x02, 0x7d, 0x8c, 0x01, 0x61, 0x4b, 0x01, 0x73, 0x2e]);
  // the legacy reader needs the magic number first: a bare pickle is not a torch file
  assert.throws(() => parseTorchFile(notTensor, 'x.bin'), /x\.bin: not a torch\.save file/);
  const bytes = readFileSync(join(DIR, 'zip.bin'));
  assert.throws(() => parseTorchFile(bytes.subarray(0, bytes.length - 40), 'cut.bin'), /cut\.bin: .*(truncated|corrupt)/);
  assert.throws(() => parseTorchFile(enc.encode('hello world'), 'text.bin'), /text\.bin: not a torch\.save file/);
});
