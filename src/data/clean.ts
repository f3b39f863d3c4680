// Text cleaning for datasets, each step optional: HTML to plain text (parsed with htmlparser2:
// scripts, styles and other non-text elements dropped, entities decoded, block elements on
// their own lines), control characters removed, Unicode normalisation (NFC or NFKC) and
// whitespace folding. Takes texts or examples and options; cleanExamples also reports how many
// texts each step changed.

import { Parser } from 'htmlparser2';
import type { Example } from './dataset.js';

export interface CleanOptions {
  /** Parse the text as HTML and keep only its text (default false: text with "<" is left alone). */
  html?: boolean;
  /** Remove C0/C1 control characters other than tab and line breaks, and stray U+FEFF (default true). */
  controlChars?: boolean;
  /** Unicode normalisation form, or false to leave the text as it is (default 'NFC'). */
  normalize?: 'NFC' | 'NFKC' | false;
  /**
   * true (default): every run of whitespace (line breaks included) becomes one space and the
   * ends are trimmed; 'keep-newlines': spaces folded within lines, lines trimmed, blank lines
   * collapsed to one, so paragraphs stay apart; false: whitespace untouched.
   */
  whitespace?: boolean | 'keep-newlines';
}

/** Per-step counts of texts changed by {@link cleanExamples}. */
export interface CleanReport {
  /** Texts looked at. */
  texts: number;
  changed: { html: number; controlChars: number; normalize: number; whitespace: number };
  /** Texts that were not empty before cleaning and are empty after (kept as ''). */
  emptied: number;
  /** Examples with at least one text changed. */
  examplesChanged: number;
}

/** Elements whose content is not document text. */
const DROPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'select', 'datalist']);
/** Elements that start a new line of text. */
const BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'head', 'header', 'hgroup',
  'hr', 'html', 'legend', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'tfoot',
  'thead', 'title', 'tr', 'ul',
]);
const CELLS = new Set(['td', 'th']);

/**
 * The text of an HTML document or fragment: content of script, style, noscript, template,
 * svg and similar elements dropped, comments dropped, entities decoded, whitespace collapsed
 * as a browser does, each block element (p, div, li, h1–h6, tr, br, …) on its own line and
 * table cells separated by a tab.
 */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  let dropDepth = 0;
  let preDepth = 0;
  let lineHasText = false;
  const newline = (): void => {
    if (parts.length > 0 && parts[parts.length - 1] !== '\n') parts.push('\n');
    lineHasText = false;
  };
  const parser = new Parser(
    {
      onopentag(name) {
        if (DROPPED.has(name)) {
          dropDepth++;
          return;
        }
        if (name === 'pre') preDepth++;
        if (BLOCKS.has(name)) newline();
        else if (CELLS.has(name) && lineHasText) parts.push('\t');
      },
      onclosetag(name) {
        if (DROPPED.has(name)) {
          if (dropDepth > 0) dropDepth--;
          return;
        }
        if (name === 'pre' && preDepth > 0) preDepth--;
        if (BLOCKS.has(name)) newline();
      },
      ontext(text) {
        if (dropDepth > 0) return;
        if (preDepth > 0) {
          const lines = text.split(/\r?\n/);
          lines.forEach((line, i) => {
            if (i > 0) newline();
            if (line.length > 0) {
              parts.push(line);
              lineHasText = true;
            }
          });
          return;
        }
        const collapsed = text.replace(/[ \t\n\f\r]+/g, ' ');
        if (collapsed === ' ' && !lineHasText) return;
        parts.push(collapsed);
        if (collapsed.trim().length > 0) lineHasText = true;
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, ' ').trim())
    .filter((line) => line.length > 0)
    .join('\n');
}

// C0 and C1 controls except tab, line feed and carriage return; U+FEFF (a byte-order mark inside a text)
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF]/g;

/** Removes control characters (see {@link CleanOptions.controlChars}). */
export function removeControlChars(text: string): string {
  return text.replace(CONTROL, '');
}

/** Folds whitespace (see {@link CleanOptions.whitespace}). */
export function foldWhitespace(text: string, keepNewlines = false): string {
  if (!keepNewlines) return text.replace(/\s+/g, ' ').trim();
  const lines = text.split(/\r\n|[\n\r\u2028\u2029\u0085]/).map((l) => l.replace(/\s+/g, ' ').trim());
  const out: string[] = [];
  for (const line of lines) {
    if (line.length === 0 && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

function checkOptions(opts: CleanOptions): Required<CleanOptions> {
  const o: Required<CleanOptions> = {
    html: opts.html ?? false,
    controlChars: opts.controlChars ?? true,
    normalize: opts.normalize ?? 'NFC',
    whitespace: opts.whitespace ?? true,
  };
  if (o.normalize !== false && o.normalize !== 'NFC' && o.normalize !== 'NFKC') {
    throw new RangeError(`normalize must be 'NFC', 'NFKC' or false, got ${JSON.stringify(o.normalize)}`);
  }
  if (o.whitespace !== true && o.whitespace !== false && o.whitespace !== 'keep-newlines') {
    throw new RangeError(`whitespace must be true, false or 'keep-newlines', got ${JSON.stringify(o.whitespace)}`);
  }
  return o;
}

type StepCounts = CleanReport['changed'];

function cleanWith(text: string, o: Required<CleanOptions>, counts?: StepCounts): string {
  let t = text;
  const step = (key: keyof StepCounts, next: string): void => {
    if (counts !== undefined && next !== t) counts[key]++;
    t = next;
  };
  if (o.html) step('html', htmlToText(t));
  if (o.controlChars) step('controlChars', removeControlChars(t));
  if (o.normalize !== false) step('normalize', t.normalize(o.normalize));
  if (o.whitespace !== false) step('whitespace', foldWhitespace(t, o.whitespace === 'keep-newlines'));
  return t;
}

/** Cleans one text with the steps {@link CleanOptions} turns on (order: html, control characters, normalisation, whitespace). */
export function cleanText(text: string, opts: CleanOptions = {}): string {
  if (typeof text !== 'string') throw new TypeError(`cleanText: expected a string, got ${text === null ? 'null' : typeof text}`);
  return cleanWith(text, checkOptions(opts));
}

/** Cleans every text of every example (labels and ids kept); returns new examples and what each step changed. */
export function cleanExamples(examples: readonly Example[], opts: CleanOptions = {}): { examples: Example[]; report: CleanReport } {
  const o = checkOptions(opts);
  const report: CleanReport = { texts: 0, changed: { html: 0, controlChars: 0, normalize: 0, whitespace: 0 }, emptied: 0, examplesChanged: 0 };
  const out = examples.map((ex) => {
    let changed = false;
    const texts = ex.texts.map((text) => {
      report.texts++;
      const cleaned = cleanWith(text, o, report.changed);
      if (cleaned !== text) changed = true;
      if (cleaned.length === 0 && text.length > 0) report.emptied++;
      return cleaned;
    });
    if (changed) report.examplesChanged++;
    return { ...ex, texts };
  });
  return { examples: out, report };
}
