// Our delimited-text parser (src/data/delimited.ts) against csv-parse, the most used CSV
// library on npm: first the behaviours our reader's tests demand (start line of every record,
// quoted fields over line breaks, a bad row counted and the read going on, an unclosed quote
// failing with the line where it opened, quotes inside unquoted fields, any chunking), each
// run through csv-parse with the options closest to ours; then the speed of both over STS-B
// train (tab-separated, no quoting; parsed from one string, best of --repeat). Prints JSON.
//   node dist/bench/csv_reader_bench.js [--repeat 5]

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as csvParse, type Info, type Options } from 'csv-parse/sync';
import { DelimitedParser, type ParsedRecord } from '../src/data/delimited.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '5' } } });
const repeat = Number(values.repeat);

interface Outcome {
  records?: { line: number; fields: string[] }[];
  bad?: { line: number; problem: string }[];
  error?: string;
}

function ours(text: string, delimiter = ',', quote: string | false = '"'): Outcome {
  const out: ParsedRecord[] = [];
  try {
    const p = new DelimitedParser('x', delimiter, quote);
    p.push(text, out);
    p.end(out);
  } catch (e) {
    return { error: (e as Error).message };
  }
  return {
    records: out.flatMap((r) => ('fields' in r ? [{ line: r.line, fields: r.fields }] : [])),
    bad: out.flatMap((r) => ('error' in r ? [{ line: r.line, problem: r.error }] : [])),
  };
}

/** csv-parse with our semantics as far as its options go: skip empty lines, keep ragged rows, count bad records and go on. */
function theirs(text: string, delimiter = ',', quote: string | false = '"', relaxQuotes = true): Outcome {
  const bad: { line: number; problem: string }[] = [];
  const opts: Options = {
    delimiter, quote: quote === false ? false : quote, bom: true, skip_empty_lines: true, relax_column_count: true,
    relax_quotes: relaxQuotes, skip_records_with_error: true, info: true,
    on_skip: (err) => {
      if (err) bad.push({ line: (err as Error & { lines?: number }).lines ?? -1, problem: err.message });
    },
  };
  try {
    const rows = csvParse(text, opts) as unknown as { record: string[]; info: Info }[];
    // info.lines is the line where a record ends; the start line is not given
    return { records: rows.map((r) => ({ line: r.info.lines, fields: r.record })), bad };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

const cases: { name: string; text: string; want: (o: Outcome) => boolean }[] = [
  {
    name: 'start line of a record after a quoted field spanning lines',
    text: 'a,b\n"x\ny",1\nz,2\n',
    want: (o) => same(o.records?.map((r) => r.line), [1, 2, 4]),
  },
  {
    name: 'CRLF, doubled quotes, a quote inside an unquoted field, no final newline',
    text: 'a,b\r\n"with ""q""",mid"quote\r\n\r\nc,"d"',
    want: (o) => same(o.records?.map((r) => r.fields), [['a', 'b'], ['with "q"', 'mid"quote'], ['c', 'd']]),
  },
  {
    name: 'a stray character after a closing quote: that row counted bad with its line, the next rows read',
    text: 'a,b\n1,"ok"\n2,"bad"x\n3,"fine"\n',
    want: (o) => same(o.records?.map((r) => r.line), [1, 2, 4]) && same(o.bad?.map((b) => b.line), [3]),
  },
  {
    name: 'an unclosed quote fails the read naming the line where it opened',
    text: 'a,b\n1,x\n2,"never closed\n3,y\n4,z\n',
    want: (o) => o.error !== undefined && /\bline 3\b/.test(o.error),
  },
  {
    name: 'ragged rows are kept with their field count (the reader counts them bad)',
    text: 'a\tb\n1\t2\n3\t4\t5\n6\n',
    want: (o) => same(o.records?.map((r) => r.fields.length), [2, 2, 3, 1]),
  },
];

// csv-parse is tried with relax_quotes on (needed for quotes inside unquoted fields) and off
const got = (t: Outcome): unknown => t.error ?? { lines: t.records?.map((r) => r.line), bad: t.bad?.map((b) => b.line) };
const behaviours = cases.map((c) => {
  const d = c.name.startsWith('ragged') ? '\t' : ',';
  const o = ours(c.text, d);
  const relaxed = theirs(c.text, d, '"', true);
  const strict = theirs(c.text, d, '"', false);
  return {
    case: c.name, ours: c.want(o), csv_parse_relax_quotes: c.want(relaxed), csv_parse_strict_quotes: c.want(strict),
    csv_parse_got: { relax_quotes: got(relaxed), strict: got(strict) },
  };
});

const STSB = resolve(process.cwd(), '..', 'shared', 'data', 'stsb', 'sts-train.csv');
let speed: Record<string, unknown> = { skipped: `${STSB} not found` };
if (existsSync(STSB)) {
  const text = (await readFile(STSB)).toString('utf8');
  const time = (f: () => number): { ms: number; rows: number } => {
    let best = Infinity;
    let rows = 0;
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      rows = f();
      best = Math.min(best, performance.now() - t0);
    }
    return { ms: +best.toFixed(1), rows };
  };
  const o = time(() => {
    const out: ParsedRecord[] = [];
    const p = new DelimitedParser(STSB, '\t', false);
    p.push(text, out);
    p.end(out);
    return out.length;
  });
  const c = time(() => (csvParse(text, { delimiter: '\t', quote: false, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown[]).length);
  // without info (no line numbers, which the reader needs): csv-parse's fastest setting
  const bare = time(() => (csvParse(text, { delimiter: '\t', quote: false, relax_column_count: true, skip_empty_lines: true }) as unknown[]).length);
  const mb = Buffer.byteLength(text) / 1e6;
  speed = {
    file: 'sts-train.csv', megabytes: +mb.toFixed(2), repeat,
    ours: { ...o, mb_per_s: +(mb / (o.ms / 1000)).toFixed(1) },
    csv_parse: { ...c, mb_per_s: +(mb / (c.ms / 1000)).toFixed(1) },
    csv_parse_without_line_info: { ...bare, mb_per_s: +(mb / (bare.ms / 1000)).toFixed(1) },
    ratio: +(c.ms / o.ms).toFixed(2),
  };
}

process.stdout.write(JSON.stringify({ csv_parse_version: '7.0.3', behaviours, speed }, null, 2) + '\n');
