// Tests for src/io: text/JSONL input (BOM, CRLF, empty lines, error messages,
// bounded-memory streaming), .npy encode/parse/streaming (byte-exact headers,
// numpy interop when available), JSONL embedding output, atomic writes and
// the silent-when-not-a-TTY progress line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Progress,
  countLines,
  createJsonlEmbeddingWriter,
  createNpyWriter,
  encodeNpy,
  formatFloat32,
  npyHeader,
  openAtomic,
  parseNpy,
  readNpy,
  readTexts,
  writeFileAtomic,
  type ProgressStream,
  type ReadTextsOptions,
} from '../src/io/index.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sentencekit-io-'));
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readAll(path: string, opts?: ReadTextsOptions): Promise<{ texts: string[]; firstLines: number[] }> {
  const texts: string[] = [];
  const firstLines: number[] = [];
  for await (const batch of readTexts(path, opts)) {
    texts.push(...batch.texts);
    firstLines.push(batch.firstLine);
  }
  return { texts, firstLines };
}

async function textsOf(dir: string, name: string, content: string | Uint8Array, opts?: ReadTextsOptions): Promise<string[]> {
  const path = join(dir, name);
  await writeFile(path, content);
  return (await readAll(path, opts)).texts;
}

const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const NUMPY_SKIP = hasNumpy ? false : 'numpy not available (/usr/bin/python3 -c "import numpy" failed)';

function python(script: string, ...args: string[]): string {
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return r.stdout;
}

// ---------------------------------------------------------------- text input

test('plain text: one text per line, BOM stripped, CRLF accepted, empty lines kept', async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await textsOf(dir, 'a.txt', '\uFEFFfirst\r\nsecond\r\n\r\nfourth\r\n'), ['first', 'second', '', 'fourth']);
    assert.deepEqual(await textsOf(dir, 'b.txt', 'a\n\n\nb\n'), ['a', '', '', 'b']);
    // BOM as raw bytes, and only stripped at the very start
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x\n\uFEFFy\n')]);
    assert.deepEqual(await textsOf(dir, 'c.txt', bom), ['x', '\uFEFFy']);
  });
});

test('plain text: no trailing newline, single newline, empty file', async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await textsOf(dir, 'a.txt', 'one\ntwo'), ['one', 'two']);
    assert.deepEqual(await textsOf(dir, 'b.txt', 'one\ntwo\n'), ['one', 'two']);
    assert.deepEqual(await textsOf(dir, 'c.txt', '\n'), ['']);
    assert.deepEqual(await textsOf(dir, 'd.txt', ''), []);
    assert.deepEqual(await textsOf(dir, 'e.txt', 'last line\r'), ['last line']);
    assert.deepEqual(await textsOf(dir, 'f.txt', 'trailing blank\n\n'), ['trailing blank', '']);
  });
});

test('plain text: multi-byte UTF-8 split across read chunks survives', async () => {
  await withDir(async (dir) => {
    const line = 'é漢字🙂'.repeat(20000); // > 64 KiB so chunk boundaries fall inside characters
    assert.deepEqual(await textsOf(dir, 'u.txt', `${line}\n${line}`), [line, line]);
  });
});

test('batches respect chunkSize and report 1-based first line numbers', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'n.txt');
    await writeFile(path, Array.from({ length: 10 }, (_, i) => `t${i}`).join('\n'));
    const batches: { texts: string[]; firstLine: number }[] = [];
    for await (const b of readTexts(path, { chunkSize: 4 })) batches.push(b);
    assert.deepEqual(batches.map((b) => b.texts.length), [4, 4, 2]);
    assert.deepEqual(batches.map((b) => b.firstLine), [1, 5, 9]);
    assert.equal(batches[2]!.texts[1], 't9');
    await assert.rejects(readAll(path, { chunkSize: 0 }), /chunkSize must be a positive integer/);
  });
});

/** How many of this process's descriptors point at `path` (Linux /proc; 0 elsewhere). */
async function openDescriptors(path: string): Promise<number> {
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return 0;
  }
  let n = 0;
  for (const fd of fds) {
    try {
      if ((await readlink(`/proc/self/fd/${fd}`)) === path) n++;
    } catch {
      // descriptor closed meanwhile
    }
  }
  return n;
}

test('stopping early closes the input file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'many.txt');
    await writeFile(path, 'x\n'.repeat(100_000));
    let seen = 0;
    for await (const batch of readTexts(path, { chunkSize: 10 })) {
      seen += batch.texts.length;
      assert.equal(await openDescriptors(path), process.platform === 'linux' ? 1 : 0);
      break;
    }
    assert.equal(seen, 10);
    for (let i = 0; i < 20 && (await openDescriptors(path)) > 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await openDescriptors(path), 0);
  });
});

test('format auto: .jsonl/.ndjson/.json are JSONL, anything else is text', async () => {
  await withDir(async (dir) => {
    const line = '{"text":"hello"}\n';
    assert.deepEqual(await textsOf(dir, 'a.jsonl', line), ['hello']);
    assert.deepEqual(await textsOf(dir, 'a.NDJSON', line), ['hello']);
    assert.deepEqual(await textsOf(dir, 'a.json', line), ['hello']);
    assert.deepEqual(await textsOf(dir, 'a.txt', line), ['{"text":"hello"}']);
    assert.deepEqual(await textsOf(dir, 'b.txt', line, { format: 'jsonl' }), ['hello']);
    assert.deepEqual(await textsOf(dir, 'b.jsonl', line, { format: 'text' }), ['{"text":"hello"}']);
  });
});

test('jsonl: custom field, blank lines skipped, CRLF and BOM accepted, line numbers kept', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'corpus.jsonl');
    await writeFile(path, '\uFEFF{"_id":"1","body":"alpha"}\r\n\r\n{"_id":"2","body":"beta"}\n   \n{"body":""}');
    const { texts, firstLines } = await readAll(path, { field: 'body', chunkSize: 1 });
    assert.deepEqual(texts, ['alpha', 'beta', '']);
    assert.deepEqual(firstLines, [1, 3, 5]);
  });
});

test('jsonl errors name the file, the line and what was found', async () => {
  await withDir(async (dir) => {
    const bad = join(dir, 'corpus.jsonl');
    await writeFile(bad, '{"text":"ok"}\n\n{"text": "unterminated\n');
    await assert.rejects(readAll(bad), (err: Error) => {
      assert.match(err.message, /corpus\.jsonl line 3: not valid JSON: /);
      assert.match(err.message, /unterminated/);
      return true;
    });

    const missing = join(dir, 'missing.jsonl');
    await writeFile(missing, '{"text":"a"}\n{"_id":"7","title":"t","body":"b"}\n');
    await assert.rejects(readAll(missing), (err: Error & { line?: number; file?: string }) => {
      assert.match(err.message, /missing\.jsonl line 2: field "text" missing \(keys: _id, title, body\)/);
      assert.equal(err.line, 2);
      assert.equal(err.file, missing);
      return true;
    });

    const nonString = join(dir, 'nonstring.jsonl');
    await writeFile(nonString, '{"text":"a"}\n{"text":"b"}\n{"text":42}\n');
    await assert.rejects(readAll(nonString), /nonstring\.jsonl line 3: field "text" is a number, expected a string/);

    const nullField = join(dir, 'null.jsonl');
    await writeFile(nullField, '{"text":null}\n');
    await assert.rejects(readAll(nullField), /null\.jsonl line 1: field "text" is null, expected a string/);

    const notObject = join(dir, 'array.jsonl');
    await writeFile(notObject, '["a"]\n');
    await assert.rejects(readAll(notObject), /array\.jsonl line 1: expected a JSON object with a string field "text", found an array/);

    const custom = join(dir, 'custom.jsonl');
    await writeFile(custom, '{"text":"a"}\n');
    await assert.rejects(readAll(custom, { field: 'sentence' }), /custom\.jsonl line 1: field "sentence" missing \(keys: text\)/);
  });
});

test('missing input file gives a clear error', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'nope.txt');
    await assert.rejects(readAll(path), /cannot read input file ".*nope\.txt".*check the path/);
    await assert.rejects(countLines(path), /cannot read input file ".*nope\.txt"/);
  });
});

test('countLines matches what a plain-text read yields', async () => {
  await withDir(async (dir) => {
    const cases = ['', '\n', 'a', 'a\n', 'a\nb', 'a\r\nb\r\n', '\n\n\n', 'x\n\ny'];
    for (const [i, content] of cases.entries()) {
      const path = join(dir, `c${i}.txt`);
      await writeFile(path, content);
      assert.equal(await countLines(path), (await readAll(path)).texts.length, `content ${JSON.stringify(content)}`);
    }
  });
});

test('1,000,000-line file streams in bounded memory', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await withDir(async (dir) => {
    const path = join(dir, 'big.txt');
    const lines = 1_000_000;
    const out = createWriteStream(path);
    const block: string[] = [];
    for (let i = 0; i < lines; i++) {
      block.push(`sentence number ${i} with a little bit of padding text`);
      if (block.length === 50_000) {
        if (!out.write(`${block.join('\n')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
        block.length = 0;
      }
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const fileSize = (await stat(path)).size;

    assert.equal(await countLines(path), lines);

    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let count = 0;
    let chars = 0;
    let batches = 0;
    let last = '';
    for await (const batch of readTexts(path)) {
      count += batch.texts.length;
      for (const t of batch.texts) chars += t.length;
      last = batch.texts[batch.texts.length - 1]!;
      if (++batches % 25 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    assert.equal(count, lines);
    assert.equal(last, `sentence number ${lines - 1} with a little bit of padding text`);
    assert.equal(chars + lines, fileSize);
    // Holding every line would take more than the file size; streaming keeps a few batches.
    t.diagnostic(`streamed ${fileSize} bytes; peak retained heap growth ${peak} bytes`);
    assert.ok(peak < fileSize / 4, `retained heap grew by ${peak} bytes while streaming a ${fileSize}-byte file`);
  });
});

// ---------------------------------------------------------------------- npy

const NUMPY_DICT_3x4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
// numpy pads with spaces so that magic (6) + version (2) + length (2) + header ends on a 64-byte boundary.
const NUMPY_HEADER_3x4 = NUMPY_DICT_3x4 + ' '.repeat(128 - 10 - NUMPY_DICT_3x4.length - 1) + '\n';

test('npy header bytes for shape (3, 4) match numpy.save', () => {
  const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 1);
  const bytes = encodeNpy(data, [3, 4]);
  assert.equal(bytes.length, 128 + 12 * 4);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  assert.equal(bytes[8]! | (bytes[9]! << 8), 118);
  const header = Buffer.from(bytes.subarray(10, 128)).toString('latin1');
  assert.equal(header, NUMPY_HEADER_3x4);
  assert.equal((10 + header.length) % 64, 0);
});

test('npy encode/parse round trip, 1-D and empty shapes, clear errors', () => {
  const data = Float32Array.from([1.5, -2.25, 3.1415927, 1e-30, -0, 65504]);
  for (const shape of [[2, 3], [6], [1, 6], [3, 2, 1]]) {
    const parsed = parseNpy(encodeNpy(data, shape));
    assert.deepEqual(parsed.shape, shape);
    assert.deepEqual([...parsed.data], [...data]);
  }
  const empty = parseNpy(encodeNpy(new Float32Array(0), [0, 8]));
  assert.deepEqual(empty.shape, [0, 8]);
  assert.equal(empty.data.length, 0);
  assert.equal(npyHeader([0, 384]).length % 64, 0);
  assert.equal(npyHeader([0, 384]).length, npyHeader([123_456_789_012, 384]).length);

  assert.throws(() => encodeNpy(data, [4, 2]), /shape \(4, 2\) holds 8 values but data has 6/);
  assert.throws(() => parseNpy(new Uint8Array(20)), /not a \.npy file/);
  const f8 = Buffer.from(encodeNpy(data, [6]));
  f8.write("'<f8'", f8.indexOf("'<f4'"), 'latin1');
  assert.throws(() => parseNpy(f8), /dtype "<f8" is not supported.*astype\('<f4'\)/);
  const fortran = Buffer.from(encodeNpy(data, [6]));
  fortran.write('True, ', fortran.indexOf('False'), 'latin1');
  assert.throws(() => parseNpy(fortran), /Fortran-order arrays are not supported/);
  const truncated = encodeNpy(data, [6]).subarray(0, 128 + 8);
  assert.throws(() => parseNpy(truncated, 'x.npy'), /x\.npy: shape \(6,\) needs 24 data bytes but the file has 8/);
});

test('streamed npy writer: rows in several calls, header rewritten with final N', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'emb.npy');
    const dim = 4;
    const writer = await createNpyWriter(path, dim);
    const all: number[] = [];
    let next = 0;
    for (const n of [1, 3, 0, 5]) {
      const rows = Float32Array.from({ length: n * dim }, () => Math.fround(Math.sin(next++) * 3));
      all.push(...rows);
      await writer.writeRows(rows);
    }
    await assert.rejects(writer.writeRows(new Float32Array(5)), /not a multiple of dim 4/);
    assert.deepEqual(await readdir(dir).then((f) => f.filter((n) => n === 'emb.npy')), [], 'nothing at the destination before close');
    assert.equal(await writer.close(), 9);
    const bytes = await readFile(path);
    const parsed = parseNpy(bytes);
    assert.deepEqual(parsed.shape, [9, 4]);
    assert.deepEqual([...parsed.data], all);
    // Byte-identical to the in-memory encoder, hence to numpy.save.
    assert.deepEqual(new Uint8Array(bytes), encodeNpy(Float32Array.from(all), [9, 4]));
    assert.deepEqual((await readNpy(path)).shape, [9, 4]);
    assert.deepEqual(await readdir(dir), ['emb.npy'], 'no temp files left');
    await assert.rejects(writer.writeRows(new Float32Array(4)), /already closed/);
  });
});

test('streamed npy writer with zero rows writes shape (0, D)', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'empty.npy');
    const writer = await createNpyWriter(path, 3);
    assert.equal(await writer.close(), 0);
    assert.deepEqual(parseNpy(await readFile(path)).shape, [0, 3]);
    await assert.rejects(createNpyWriter(path, 0), /dim must be a positive integer/);
  });
});

test('abort leaves no file behind (npy and jsonl)', async () => {
  await withDir(async (dir) => {
    const npy = await createNpyWriter(join(dir, 'a.npy'), 2);
    await npy.writeRows(new Float32Array([1, 2, 3, 4]));
    await npy.abort();
    await npy.abort();
    const jsonl = await createJsonlEmbeddingWriter(join(dir, 'a.jsonl'), 2);
    await jsonl.writeRows(new Float32Array([1, 2]));
    await jsonl.abort();
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(npy.close(), /already aborted/);
  });
});

test('abort keeps an existing destination file untouched', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'keep.npy');
    await writeFile(path, 'previous');
    const writer = await createNpyWriter(path, 2);
    await writer.writeRows(new Float32Array([1, 2]));
    await writer.abort();
    assert.equal(await readFile(path, 'utf8'), 'previous');
    assert.deepEqual(await readdir(dir), ['keep.npy']);
  });
});

test('numpy loads a streamed .npy and sees the same values and header', { skip: NUMPY_SKIP }, async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'np.npy');
    const dim = 5;
    const writer = await createNpyWriter(path, dim);
    const all: number[] = [];
    for (let call = 0; call < 3; call++) {
      const rows = Float32Array.from({ length: 2 * dim }, (_, i) => Math.fround((call * 10 + i) / 7 - 1e-3));
      all.push(...rows);
      await writer.writeRows(rows);
    }
    assert.equal(await writer.close(), 6);
    const out = python(
      'import sys, json, numpy as np\n' +
        'a = np.load(sys.argv[1])\n' +
        'print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "c": bool(a.flags.c_contiguous), "data": [float(v) for v in a.ravel()]}))',
      path,
    );
    const got = JSON.parse(out) as { shape: number[]; dtype: string; c: boolean; data: number[] };
    assert.deepEqual(got.shape, [6, 5]);
    assert.equal(got.dtype, 'float32');
    assert.equal(got.c, true);
    assert.deepEqual(got.data, all);

    // numpy's own file for the same array: identical bytes, and parseNpy reads it.
    const ref = join(dir, 'ref.npy');
    python('import sys, numpy as np\nnp.save(sys.argv[2], np.load(sys.argv[1]))', path, ref);
    const refBytes = await readFile(ref);
    assert.deepEqual(new Uint8Array(await readFile(path)), new Uint8Array(refBytes));
    assert.deepEqual([...parseNpy(refBytes).data], all);

    const ref34 = join(dir, 'ref34.npy');
    python('import sys, numpy as np\nnp.save(sys.argv[1], np.zeros((3, 4), dtype="<f4"))', ref34);
    assert.equal((await readFile(ref34)).subarray(0, 128).toString('latin1'), Buffer.from(encodeNpy(new Float32Array(12), [3, 4]).subarray(0, 128)).toString('latin1'));
  });
});

// -------------------------------------------------------------- jsonl output

test('formatFloat32 prints short decimals that round-trip to the same float32', () => {
  assert.equal(formatFloat32(Math.fround(0.1)), '0.1');
  assert.equal(formatFloat32(0.5), '0.5');
  assert.equal(formatFloat32(0), '0');
  assert.equal(formatFloat32(-0), '-0');
  const buf = new Float32Array(1);
  const bits = new Uint32Array(buf.buffer);
  let seed = 12345;
  for (let i = 0; i < 20000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bits[0] = seed;
    const x = buf[0]!;
    if (!Number.isFinite(x)) continue;
    const s = formatFloat32(x);
    assert.ok(Object.is(Math.fround(Number.parseFloat(s)), x), `${s} does not round-trip to ${x}`);
    const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    assert.ok(digits.length <= 9, `${s} has more than 9 significant digits`);
  }
});

test('jsonl writer round trip', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'emb.jsonl');
    const dim = 3;
    const writer = await createJsonlEmbeddingWriter(path, dim);
    const rows = [
      Float32Array.from([0.1, -0.2, 1 / 3]),
      Float32Array.from([1e-7, 123456.789, -0, 3.4e38, 1.17e-38, 42]),
    ];
    for (const r of rows) await writer.writeRows(r);
    assert.equal(await writer.close(), 3);
    const text = await readFile(path, 'utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], '{"embedding":[0.1,-0.2,0.33333334]}');
    const values = lines.flatMap((l) => (JSON.parse(l) as { embedding: number[] }).embedding);
    const expected = rows.flatMap((r) => [...r]);
    assert.equal(values.length, expected.length);
    values.forEach((v, i) => assert.ok(Object.is(Math.fround(v), expected[i]), `value ${i}: ${v} vs ${expected[i]}`));
    assert.deepEqual(await readdir(dir), ['emb.jsonl']);
  });
});

test('jsonl writer rejects NaN with the row and component, then discards the file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'nan.jsonl');
    const writer = await createJsonlEmbeddingWriter(path, 2);
    await writer.writeRows(Float32Array.from([1, 2]));
    await assert.rejects(writer.writeRows(Float32Array.from([3, 4, 5, Number.NaN])), /row 2, component 1 is NaN/);
    await assert.rejects(writer.writeRows(Float32Array.from([1, 2])), /earlier write failed/);
    await assert.rejects(writer.close(), /row 2, component 1 is NaN/);
    assert.deepEqual(await readdir(dir), []);
  });
});

// ------------------------------------------------------------------- atomic

test('writeFileAtomic replaces the file and leaves no temp files', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'out.json');
    await writeFileAtomic(path, 'first');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    assert.equal(await readFile(path, 'utf8'), 'hi');
    assert.deepEqual(await readdir(dir), ['out.json']);
    await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'dir.json'), 'x'), /cannot create a temporary file for .*create the output directory first/);
  });
});

test('openAtomic: nothing visible until commit, abort removes the temp file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'stream.txt');
    const f = await openAtomic(path);
    await f.write('a');
    await f.write(new Uint8Array([98]));
    assert.deepEqual(await readdir(dir), [f.tempPath.slice(dir.length + 1)]);
    await f.commit();
    assert.equal(await readFile(path, 'utf8'), 'ab');
    await assert.rejects(f.write('c'), /already committed/);

    const g = await openAtomic(join(dir, 'other.txt'));
    await g.write('x');
    await g.abort();
    assert.deepEqual(await readdir(dir), ['stream.txt']);
  });
});

// ----------------------------------------------------------------- progress

function captureStream(isTTY: boolean, columns = 200): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return {
    isTTY,
    columns,
    out,
    write(chunk: string): boolean {
      out.push(chunk);
      return true;
    },
  };
}

test('Progress prints nothing to a non-TTY stream', () => {
  const stream = captureStream(false);
  const p = new Progress({ total: 100, label: 'encoding', stream, unit: 'texts' });
  for (let i = 0; i < 100; i++) p.tick(1, 'batch');
  p.done('finished');
  assert.deepEqual(stream.out, []);

  const noFlag = { out: [] as string[], write(c: string) { this.out.push(c); return true; } };
  const q = new Progress({ label: 'x', stream: noFlag });
  q.tick(5);
  q.done();
  assert.deepEqual(noFlag.out, []);
});

test('Progress on a TTY draws count/total, rate and ETA, throttled, and ends the line', () => {
  const stream = captureStream(true);
  const p = new Progress({ total: 1000, label: 'encoding', stream, unit: 'texts' });
  for (let i = 0; i < 500; i++) p.tick(1);
  assert.equal(stream.out.length, 1, 'redraws are throttled to ~10 per second');
  assert.match(stream.out[0]!, /^\rencoding \[[#-]+\] 1\/1,000 texts 0% .* texts\/s ETA /);
  p.done('done: 500 texts');
  const last = stream.out[stream.out.length - 2]!;
  assert.match(last, /500\/1,000 texts 50% .*texts\/s in \d\d:\d\d done: 500 texts/);
  assert.equal(stream.out[stream.out.length - 1], '\n');
});

test('Progress without a total shows count and rate, and fits the terminal width', () => {
  const stream = captureStream(true, 40);
  const p = new Progress({ label: 'reading', stream });
  p.tick(7, 'a long note that would overflow a narrow terminal');
  p.done();
  assert.match(stream.out[0]!, /^\rreading 7 items [\d.,]+ items\/s/);
  assert.doesNotMatch(stream.out[0]!, /ETA/);
  for (const line of stream.out) assert.ok(line.replace(/\x1b\[K|\r|\n/g, '').length < 40, JSON.stringify(line));
});
