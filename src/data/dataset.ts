// Turns data files into the examples the losses take. Takes a DatasetSpec (path, format or
// preset, a role → column mapping, label kind, score scale) and yields { texts, label } with
// the texts in role order (anchor, positive, negative, …; sentence1, sentence2; premise,
// hypothesis). Presets read STS-B, AllNLI-style NLI, MRPC and BEIR files as published; rows
// with a missing field, a non-numeric score or an unknown class are counted as bad rows.

import type { LabelKind } from '../losses/loss.js';
import { readDelimited, type DelimitedOptions, type RaggedPolicy } from './delimited.js';
import { readJsonl } from './jsonl.js';
import { readParquet } from './parquet.js';
import { BadRowLog, DataError, type BadRowPolicy, type ReadReport } from './report.js';
import type { FieldValue, Row, RowReader } from './rows.js';

/** One training or evaluation example: texts in role order and, for losses that take one, a label. */
export interface Example {
  texts: string[];
  /** A score (float), a class (integer) or a target embedding, as the loss's LabelKind says. */
  label?: number | number[];
  /** Document or query id (BEIR corpus and queries, or an `id` role). */
  id?: string;
}

/**
 * A preset (stsb, nli, mrpc; beir-corpus and beir-queries give Example.id and one text;
 * beir-qrels gives texts [query id, document id] and the relevance score as label) or a
 * plain row format mapped with DatasetSpec.columns.
 */
export type DatasetFormat =
  | 'stsb' | 'nli' | 'mrpc'
  | 'csv' | 'tsv' | 'jsonl' | 'parquet'
  | 'beir-corpus' | 'beir-queries' | 'beir-qrels';

export interface DatasetSpec {
  path: string;
  format: DatasetFormat;
  /**
   * Role → field: a column name, or a 0-based column index as a string ("5") for header-less
   * files. Text roles (anchor, positive, negative, negative_2, …; sentence1, sentence2; premise,
   * hypothesis; query, text, …) become Example.texts in role order; `label` or `score` is the
   * label; `id` sets Example.id. Presets have their own mapping, which these entries override.
   * Without columns (csv, tsv, jsonl, parquet) every column is a text in file order except one
   * named label or score, as sentence-transformers reads a dataset.
   */
  columns?: Record<string, string>;
  /** Default: 'score' with a score role, 'class' with a label role, else 'none'. */
  labelKind?: LabelKind;
  /** Scores are divided by this (default 1; 5 for stsb, giving 0–1; pass 1 to keep 0–5). */
  scoreScale?: number;
  /** Whether the first row of a CSV/TSV names the columns (default true; presets know their files). */
  header?: boolean;
  /** CSV/TSV quote character, or false when the file does not quote (default '"'; presets: false). */
  quote?: string | false;
  /** CSV/TSV: rows with another field count (default 'skip': counted as bad rows). */
  ragged?: RaggedPolicy;
  /** CSV/TSV: fields each row must have (default: the header's or first row's count). */
  fieldCount?: number;
  /** Class names → integers (the nli preset maps entailment 0, neutral 1, contradiction 2). */
  labelMap?: Record<string, number>;
}

export interface DatasetOptions extends BadRowPolicy {
  /** Stop after this many examples. */
  limit?: number;
  /** Accept a file without records (default false). */
  allowEmpty?: boolean;
}

export interface LoadedDataset {
  examples: Example[];
  /** Text roles in the order of Example.texts. */
  columns: string[];
  labelKind: LabelKind;
  report: ReadReport;
}

/** sentence-transformers' AllNLI pair-class numbering (and the SNLI/MultiNLI one on the Hugging Face Hub). */
export const NLI_LABELS: Readonly<Record<string, number>> = Object.freeze({ entailment: 0, neutral: 1, contradiction: 2 });

const LABEL_ROLES = new Set(['label', 'score']);
const ID_ROLE = 'id';
const TITLE_ROLE = 'title';

interface Preset {
  reader: 'csv' | 'tsv' | 'jsonl' | 'parquet';
  columns?: Record<string, string>;
  labelKind?: LabelKind;
  scoreScale?: number;
  labelMap?: Record<string, number>;
  delimited?: Partial<DelimitedOptions>;
  maxBadRowRate?: number;
  /** BEIR corpus: text = (title + " " + text).trim() when the record has a title, else text.trim(). */
  joinTitle?: boolean;
}

function isNumeric(s: string): boolean {
  const t = s.trim();
  return t.length > 0 && Number.isFinite(Number(t));
}

const PRESETS: Record<DatasetFormat, Preset> = {
  // sts-*.csv: genre, file, year, id, score, sentence1, sentence2 [, source columns]
  stsb: {
    reader: 'tsv',
    columns: { sentence1: '5', sentence2: '6', score: '4' },
    labelKind: 'score',
    scoreScale: 5,
    delimited: { header: false, quote: false, fieldCount: 7, ragged: 'truncate' },
  },
  nli: {
    reader: 'jsonl',
    columns: { premise: 'premise', hypothesis: 'hypothesis', label: 'label' },
    labelKind: 'class',
    labelMap: { ...NLI_LABELS },
    // raw SNLI/MultiNLI files carry 1–2 % rows without a gold label ("-"): counted as bad
    maxBadRowRate: 0.05,
  },
  // msr_paraphrase_*.txt: Quality, #1 ID, #2 ID, #1 String, #2 String (header row optional)
  mrpc: {
    reader: 'tsv',
    columns: { sentence1: '3', sentence2: '4', label: '0' },
    labelKind: 'class',
    delimited: { header: (first) => first[0]?.trim() === 'Quality', quote: false, fieldCount: 5 },
  },
  'beir-corpus': { reader: 'jsonl', columns: { id: '_id', title: 'title', text: 'text' }, labelKind: 'none', joinTitle: true },
  'beir-queries': { reader: 'jsonl', columns: { id: '_id', text: 'text' }, labelKind: 'none' },
  // qrels/*.tsv: query-id, corpus-id, score, with or without a header line
  'beir-qrels': {
    reader: 'tsv',
    columns: { 'query-id': '0', 'corpus-id': '1', score: '2' },
    labelKind: 'score',
    delimited: { header: (first) => first.length >= 3 && !isNumeric(first[2]!), quote: false, fieldCount: 3, ragged: 'truncate' },
  },
  csv: { reader: 'csv' },
  tsv: { reader: 'tsv' },
  jsonl: { reader: 'jsonl' },
  parquet: { reader: 'parquet' },
};

const FAMILY_RANK: Record<string, number> = {
  anchor: 0, query: 0, question: 0, premise: 0, text: 0, sentence: 0,
  positive: 1, hypothesis: 1, answer: 1, document: 1, passage: 1, 'corpus-id': 1,
  'query-id': 0, negative: 2,
};

/** Sort key of a text role: anchor < positive < negative < negative_2 …, sentence1 < sentence2 …; others keep their order. */
function roleRank(role: string): number {
  const known = FAMILY_RANK[role];
  if (known !== undefined) return known;
  let m = /^negative_(\d+)$/.exec(role);
  if (m) return Number(m[1]) + 1;
  m = /^sentence_?(\d+)$/.exec(role);
  if (m) return Number(m[1]) - 1;
  return Number.POSITIVE_INFINITY;
}

function orderRoles(roles: string[]): string[] {
  return roles
    .map((role, i) => ({ role, i, rank: roleRank(role) }))
    .sort((a, b) => (a.rank === b.rank ? a.i - b.i : a.rank < b.rank ? -1 : 1))
    .map((r) => r.role);
}

function describeValue(v: FieldValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s);
}

function isIndex(s: string): boolean {
  return /^\d+$/.test(s);
}

/** The resolved mapping of one read. */
interface Plan {
  textRoles: string[];
  textFields: string[];
  labelRole?: string;
  labelField?: string;
  idField?: string;
  titleField?: string;
}

/** A streamed dataset: iterate it once for examples; columns, labelKind and report describe it. */
export class DatasetStream implements AsyncIterable<Example> {
  readonly spec: DatasetSpec;
  readonly reader: RowReader;
  /** Text roles in Example.texts order; known before iteration when the spec (or preset) maps columns. */
  columns: string[] | undefined;
  /** The label kind; with columns inferred from the file, settled when the first row is read. */
  labelKind: LabelKind;
  private readonly preset: Preset;
  private readonly columnMap: Record<string, string> | undefined;
  private readonly scoreScale: number;
  private readonly labelMap: Map<string, number> | undefined;
  private readonly allowed: Set<number> | undefined;
  private readonly limit: number;
  /** load mode: string class names are numbered after the read, in sorted order; 'collect': only gather the names */
  private readonly deferNames: boolean | 'collect';
  readonly pendingNames: Array<{ example: Example; name: string }> = [];
  /** 'collect' mode: the class names met, and the largest integer label. */
  readonly nameSet = new Set<string>();
  maxIntegerLabel = -1;
  /** stream mode: the numbering of class names, from a read-ahead of the label column */
  private streamNames: Map<string, number> | undefined;
  private embeddingDim: number | undefined;
  private emptyTexts = 0;
  private plan: Plan | undefined;

  constructor(spec: DatasetSpec, opts: DatasetOptions = {}, deferNames: boolean | 'collect' = false) {
    if (spec === null || typeof spec !== 'object' || typeof spec.path !== 'string' || spec.path.length === 0) {
      throw new TypeError('dataset spec needs a path (the data file to read)');
    }
    const preset = PRESETS[spec.format];
    if (preset === undefined) {
      throw new RangeError(`unknown dataset format ${JSON.stringify(spec.format)}; use one of ${Object.keys(PRESETS).join(', ')}`);
    }
    this.spec = spec;
    this.preset = preset;
    this.deferNames = deferNames;
    this.limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (!(this.limit >= 0)) throw new RangeError(`limit must be a non-negative number, got ${String(opts.limit)}`);

    if (spec.columns !== undefined) {
      for (const [role, field] of Object.entries(spec.columns)) {
        if (typeof field !== 'string' || field.length === 0) {
          throw new TypeError(`columns.${role} must be a column name or a 0-based index as a string, got ${JSON.stringify(field)}`);
        }
      }
    }
    this.columnMap = preset.columns !== undefined || spec.columns !== undefined ? { ...preset.columns, ...spec.columns } : undefined;

    const roles = this.columnMap === undefined ? undefined : Object.keys(this.columnMap);
    const labelRoles = roles?.filter((r) => LABEL_ROLES.has(r)) ?? [];
    if (labelRoles.length > 1) throw new RangeError(`columns map both "label" and "score"; keep one of them as the label`);
    this.labelKind = spec.labelKind ?? preset.labelKind ?? (labelRoles[0] === 'score' ? 'score' : labelRoles[0] === 'label' ? 'class' : 'none');
    if (!['none', 'score', 'class', 'embedding'].includes(this.labelKind)) {
      throw new RangeError(`labelKind must be 'none', 'score', 'class' or 'embedding', got ${JSON.stringify(this.labelKind)}`);
    }
    if (roles !== undefined) {
      if (this.labelKind !== 'none' && labelRoles.length === 0) {
        throw new RangeError(`labelKind '${this.labelKind}' needs a label column: add columns.label (or columns.score) naming it`);
      }
      this.columns = this.textRolesOf(roles);
    }
    this.scoreScale = spec.scoreScale ?? preset.scoreScale ?? 1;
    if (!(Number.isFinite(this.scoreScale) && this.scoreScale > 0)) {
      throw new RangeError(`scoreScale must be a positive number (scores are divided by it), got ${String(spec.scoreScale)}`);
    }
    const map = spec.labelMap ?? preset.labelMap;
    if (map !== undefined) {
      this.labelMap = new Map();
      for (const [name, id] of Object.entries(map)) {
        if (!Number.isInteger(id) || id < 0) throw new RangeError(`labelMap[${JSON.stringify(name)}] must be a non-negative integer, got ${String(id)}`);
        this.labelMap.set(name, id);
      }
      this.allowed = new Set(this.labelMap.values());
    }

    const policy: BadRowPolicy = {
      maxBadRowRate: opts.maxBadRowRate ?? preset.maxBadRowRate,
      minRowsForRate: opts.minRowsForRate,
      maxBadRows: opts.maxBadRows,
      minRowsAtEnd: opts.minRowsAtEnd,
    };
    const unit = preset.reader === 'parquet' ? 'row' : 'line';
    const log = new BadRowLog(spec.path, spec.format, unit, policy);
    if (this.labelMap !== undefined) log.report.labelMap = Object.fromEntries(this.labelMap);
    const common = { log, allowEmpty: opts.allowEmpty };
    if (preset.reader === 'jsonl') {
      this.reader = readJsonl(spec.path, common);
    } else if (preset.reader === 'parquet') {
      this.reader = readParquet(spec.path, common);
    } else {
      const d: DelimitedOptions = { ...preset.delimited, ...common, delimiter: preset.reader === 'tsv' ? '\t' : ',' };
      if (spec.header !== undefined) d.header = spec.header;
      if (spec.quote !== undefined) d.quote = spec.quote;
      if (spec.ragged !== undefined) d.ragged = spec.ragged;
      if (spec.fieldCount !== undefined) d.fieldCount = spec.fieldCount;
      this.reader = readDelimited(spec.path, d);
    }
  }

  get report(): ReadReport {
    return this.reader.report;
  }

  private textRolesOf(roles: string[]): string[] {
    const text = roles.filter((r) => !LABEL_ROLES.has(r) && r !== ID_ROLE && !(this.preset.joinTitle && r === TITLE_ROLE));
    return this.preset.joinTitle ? ['text'] : orderRoles(text);
  }

  [Symbol.asyncIterator](): AsyncIterator<Example> {
    return this.examples();
  }

  private async *examples(): AsyncGenerator<Example> {
    const log = this.reader.log;
    let produced = 0;
    if (this.limit === 0) return;
    for await (const row of this.reader) {
      const plan = (this.plan ??= this.resolve(row));
      let problem = this.mapRow(plan, row);
      if (problem === NEEDS_NAMES) {
        // a class name and no labelMap: number the names as loadDataset does (sorted), which
        // needs them all, so read the file ahead once; first-seen order would differ between files
        this.streamNames = await this.readAheadNames();
        problem = this.mapRow(plan, row);
        if (problem === NEEDS_NAMES) throw new Error(`${this.spec.path}: class names could not be numbered`);
      }
      if (typeof problem === 'string') {
        log.bad(row.line, problem);
        continue;
      }
      yield problem;
      if (++produced >= this.limit) {
        log.note(`stopped after ${produced} examples (limit)`);
        break;
      }
    }
    if (this.emptyTexts > 0) log.note(`${this.emptyTexts} empty text field(s) kept as ''`);
  }

  private async readAheadNames(): Promise<Map<string, number>> {
    const ahead = new DatasetStream(this.spec, { maxBadRowRate: 1, allowEmpty: true }, 'collect');
    for await (const ex of ahead) void ex;
    const { map, note } = numberClassNames(ahead.nameSet, ahead.maxIntegerLabel);
    this.reader.log.report.labelMap = map;
    this.reader.log.note(note);
    return new Map(Object.entries(map));
  }

  /** Fixes the role → field mapping from the first row (header, schema or first object). */
  private resolve(row: Row): Plan {
    const file = this.spec.path;
    const available = this.reader.columns ?? [];
    const isArray = Array.isArray(row.record);
    const fixedColumns = isArray || this.preset.reader !== 'jsonl';
    let map = this.columnMap;
    if (map === undefined) {
      // sentence-transformers' convention: every column is an input, in order, except label/score
      map = {};
      for (const c of available) map[c] = c;
      const roles = Object.keys(map);
      const labels = roles.filter((r) => LABEL_ROLES.has(r));
      if (labels.length > 1) {
        throw new DataError(file, `has both a "label" and a "score" column; say which is the label with columns (e.g. columns: { sentence1: …, sentence2: …, score: "score" })`);
      }
      if (this.spec.labelKind === undefined) this.labelKind = labels[0] === 'score' ? 'score' : labels[0] === 'label' ? 'class' : 'none';
      const labelKind = this.labelKind;
      if (labelKind !== 'none' && labels.length === 0) {
        throw new DataError(file, `labelKind '${labelKind}' needs a label column, and the file has no column named "label" or "score" (columns: ${available.join(', ')}); map one with columns`);
      }
      if (labelKind === 'none') for (const l of labels) delete map[l];
      // file order, not role order, for an inferred mapping
      this.columns = Object.keys(map).filter((r) => !LABEL_ROLES.has(r));
      this.reader.log.note(`columns inferred from the file: texts ${this.columns.join(', ')}${labels.length && labelKind !== 'none' ? `; label ${labels[0]}` : ''}`);
    }
    const fieldOf = (role: string, field: string): string => {
      if (isArray) {
        const n = (row.record as string[]).length;
        if (!isIndex(field) || Number(field) >= n) {
          throw new DataError(
            file,
            `column ${JSON.stringify(field)} (for ${role}) cannot be found: the file has no header row, so name columns by 0-based index, "0" to "${n - 1}"`,
            { field },
          );
        }
        return field;
      }
      if (fixedColumns) {
        if (available.includes(field)) return field;
        if (isIndex(field) && Number(field) < available.length) return available[Number(field)]!;
        throw new DataError(
          file,
          `no column ${JSON.stringify(field)} (for ${role}); available columns: ${available.join(', ')}. Map ${role} to one of them with columns`,
          { field },
        );
      }
      // JSON lines: a text field absent from the first object is a wrong name, not a bad row
      const record = row.record as Record<string, FieldValue>;
      if (!LABEL_ROLES.has(role) && !(field in record) && role !== TITLE_ROLE) {
        throw new DataError(
          file,
          `no field ${JSON.stringify(field)} (for ${role}) in the first record; its fields are: ${Object.keys(record).join(', ')}. Map ${role} to one of them with columns`,
          { line: row.line, field },
        );
      }
      return field;
    };
    const plan: Plan = { textRoles: [], textFields: [] };
    for (const role of this.textRolesOf(Object.keys(map))) {
      if (this.preset.joinTitle && role === 'text') {
        plan.textRoles.push(role);
        plan.textFields.push(fieldOf(role, map['text'] ?? 'text'));
        continue;
      }
      plan.textRoles.push(role);
      plan.textFields.push(fieldOf(role, map[role]!));
    }
    if (plan.textRoles.length === 0) {
      throw new DataError(file, `no text column is mapped; map at least one role (e.g. columns: { text: "…" }) to one of: ${available.join(', ')}`);
    }
    for (const role of Object.keys(map)) {
      if (!LABEL_ROLES.has(role)) continue;
      if (this.labelKind === 'none') {
        this.reader.log.note(`${role} column ${JSON.stringify(map[role])} not read (labelKind 'none')`);
        continue;
      }
      plan.labelRole = role;
      plan.labelField = fieldOf(role, map[role]!);
    }
    if (map[ID_ROLE] !== undefined) plan.idField = fieldOf(ID_ROLE, map[ID_ROLE]);
    if (this.preset.joinTitle && map[TITLE_ROLE] !== undefined) {
      plan.titleField = isArray || fixedColumns ? fieldOf(TITLE_ROLE, map[TITLE_ROLE]) : map[TITLE_ROLE];
    }
    return plan;
  }

  private get(row: Row, field: string): FieldValue | undefined {
    const r = row.record;
    return Array.isArray(r) ? r[Number(field)] : r[field];
  }

  /** The example for a row, or why the row is bad. */
  private mapRow(plan: Plan, row: Row): Example | string | typeof NEEDS_NAMES {
    const texts: string[] = [];
    for (let i = 0; i < plan.textFields.length; i++) {
      const field = plan.textFields[i]!;
      const v = this.get(row, field);
      let text: string;
      if (typeof v === 'string') text = v;
      else if (typeof v === 'number' || typeof v === 'boolean') text = String(v);
      else return this.fieldProblem(row, field, v, 'text');
      if (this.preset.joinTitle) {
        const title = plan.titleField === undefined ? undefined : this.get(row, plan.titleField);
        if (title !== undefined && title !== null && typeof title !== 'string') return this.fieldProblem(row, plan.titleField!, title, 'text');
        text = title === undefined || title === null ? text.trim() : `${title} ${text}`.trim();
      }
      if (text.length === 0) this.emptyTexts++;
      texts.push(text);
    }
    const example: Example = { texts };
    if (plan.idField !== undefined) {
      const id = this.get(row, plan.idField);
      if (typeof id === 'string' && id.length > 0) example.id = id;
      else if (typeof id === 'number') example.id = String(id);
      else return this.fieldProblem(row, plan.idField, id, 'id');
    }
    if (plan.labelField !== undefined) {
      const raw = this.get(row, plan.labelField);
      const label = this.label(raw, plan.labelField, example);
      if (typeof label === 'string' || label === NEEDS_NAMES) return label;
      if (label !== undefined) example.label = label;
    }
    return example;
  }

  private fieldProblem(row: Row, field: string, v: FieldValue | undefined, what: string): string {
    const name = JSON.stringify(field);
    if (v === undefined && !Array.isArray(row.record)) {
      return `field ${name} is missing (fields in this record: ${Object.keys(row.record).join(', ')})`;
    }
    return `field ${name} is ${describeValue(v)}, expected ${what === 'id' ? 'a non-empty id' : 'text'}`;
  }

  /** A label value, undefined when deferred (load mode, class names), or a problem string. */
  private label(v: FieldValue | undefined, field: string, example: Example): number | number[] | string | undefined | typeof NEEDS_NAMES {
    const name = JSON.stringify(field);
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      return `label field ${name} is ${v === undefined ? 'missing' : 'empty'}`;
    }
    switch (this.labelKind) {
      case 'score': {
        const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : Number.NaN;
        if (!Number.isFinite(x)) return `score field ${name} is ${describeValue(v)}, not a number`;
        return x / this.scoreScale;
      }
      case 'class':
        return this.classLabel(v, name, example);
      case 'embedding':
        return this.embeddingLabel(v, name);
      default:
        return undefined;
    }
  }

  private classLabel(v: FieldValue, name: string, example: Example): number | string | undefined | typeof NEEDS_NAMES {
    if (typeof v === 'boolean') {
      if (+v > this.maxIntegerLabel) this.maxIntegerLabel = +v;
      return v ? 1 : 0;
    }
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) return `class label ${name} is ${v}, not a non-negative integer; for float labels use labelKind 'score'`;
      if (this.allowed !== undefined && !this.allowed.has(v)) return `class label ${name} is ${v}, not one of the labelMap's ${[...this.allowed].join(', ')}`;
      if (v > this.maxIntegerLabel) this.maxIntegerLabel = v;
      return v;
    }
    if (typeof v !== 'string') return `class label ${name} is ${describeValue(v)}, expected a class name or integer`;
    const s = v.trim();
    if (this.labelMap !== undefined) {
      const id = this.labelMap.get(s);
      if (id !== undefined) return id;
      if (/^\d+$/.test(s) && this.allowed!.has(Number(s))) return Number(s);
      const why = s === '-' ? ' (no gold label: the annotators did not agree)' : '';
      return `class label ${describeValue(v)}${why} is not one of ${[...this.labelMap.keys()].join(', ')}`;
    }
    if (/^\d+$/.test(s)) {
      const n = Number(s);
      if (n > this.maxIntegerLabel) this.maxIntegerLabel = n;
      return n;
    }
    if (/^-?\d*\.\d+$|^-\d+$/.test(s)) return `class label ${name} is ${describeValue(v)}, not a non-negative integer; for float labels use labelKind 'score'`;
    if (this.deferNames === 'collect') {
      this.nameSet.add(s);
      return undefined;
    }
    if (this.deferNames) {
      this.pendingNames.push({ example, name: s });
      return undefined;
    }
    if (this.streamNames === undefined) return NEEDS_NAMES;
    const id = this.streamNames.get(s);
    // the read-ahead saw every name; a file changed since is the only way to get here
    if (id === undefined) return `class label ${describeValue(v)} was not in the file when its names were numbered; the file changed during the read`;
    return id;
  }

  private embeddingLabel(v: FieldValue, name: string): number[] | string {
    let arr: unknown = v;
    if (typeof v === 'string') {
      const s = v.trim();
      try {
        arr = s.startsWith('[') ? JSON.parse(s) : s.split(/[\s,]+/).map(Number);
      } catch {
        return `embedding label ${name} is ${describeValue(v)}, not a JSON array of numbers`;
      }
    }
    if (!Array.isArray(arr) || arr.length === 0 || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      return `embedding label ${name} is ${describeValue(v)}, expected a non-empty array of finite numbers`;
    }
    const dim = (this.embeddingDim ??= arr.length);
    if (arr.length !== dim) return `embedding label ${name} has ${arr.length} values, earlier rows have ${dim}`;
    return arr as number[];
  }
}

/**
 * The numbering of class names read without a labelMap, the same for every file that holds
 * the same names: NLI's names (a subset of entailment, neutral, contradiction) get the nli
 * preset's numbers, so a JSON-lines read and the preset agree and a file missing a class
 * keeps the others' numbers; other names are numbered in sorted order, after any integer
 * labels present (maxInteger, −1 for none).
 */
export function numberClassNames(names: ReadonlySet<string>, maxInteger: number): { map: Record<string, number>; note: string } {
  const map: Record<string, number> = {};
  const list = (): string => Object.entries(map).map(([n, i]) => `${n}=${i}`).join(', ');
  if (maxInteger < 0 && [...names].every((n) => Object.prototype.hasOwnProperty.call(NLI_LABELS, n))) {
    for (const n of Object.keys(NLI_LABELS)) if (names.has(n)) map[n] = NLI_LABELS[n]!;
    return { map, note: `class labels numbered as the nli preset numbers them: ${list()}; pass labelMap for another numbering` };
  }
  let next = maxInteger + 1;
  for (const n of [...names].sort()) map[n] = next++;
  return {
    map,
    note: maxInteger < 0
      ? `class labels numbered in sorted order of their names: ${list()}; pass labelMap for another numbering`
      : `class names numbered after the integer labels already present: ${list()}`,
  };
}

/** mapRow's answer when a class name needs the numbering that only a read-ahead can give. */
const NEEDS_NAMES: unique symbol = Symbol('needs class names');

/**
 * Streams the examples of a data file (bounded memory); see {@link DatasetSpec}. String class
 * labels without a labelMap are numbered as {@link loadDataset} numbers them (sorted names),
 * which costs one read-ahead of the file when the first name is met.
 */
export function streamDataset(spec: DatasetSpec, opts: DatasetOptions = {}): DatasetStream {
  return new DatasetStream(spec, opts, false);
}

/**
 * Reads a whole data file into memory (training and evaluation sets). String class labels
 * without a labelMap are numbered in sorted order of their names (reported in report.labelMap).
 */
export async function loadDataset(spec: DatasetSpec, opts: DatasetOptions = {}): Promise<LoadedDataset> {
  const stream = new DatasetStream(spec, opts, true);
  const examples: Example[] = [];
  for await (const ex of stream) examples.push(ex);
  if (stream.pendingNames.length > 0) {
    const { map, note } = numberClassNames(new Set(stream.pendingNames.map((p) => p.name)), stream.maxIntegerLabel);
    for (const p of stream.pendingNames) p.example.label = map[p.name]!;
    stream.report.labelMap = map;
    stream.reader.log.note(note);
  }
  return { examples, columns: stream.columns ?? [], labelKind: stream.labelKind, report: stream.report };
}
