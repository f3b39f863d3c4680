#!/usr/bin/env node
// The `sentencekit` command: dispatches to one file per sub-command and turns errors into a
// one-line message (with usage for command-line mistakes) and a non-zero exit code.

import { UsageError } from './args.js';
import { VERSION } from '../version.js';
import { createModel, usage as createUsage } from './commands/create_model.js';
import { encode, usage as encodeUsage } from './commands/encode.js';
import { info, usage as infoUsage } from './commands/info.js';
import { quickstart, usage as quickUsage } from './commands/quickstart.js';
import { train, usage as trainUsage } from './commands/train.js';
import { evaluate, usage as evaluateUsage } from './commands/evaluate.js';
import { data, usage as dataUsage } from './commands/data.js';
import { mineNegatives, usage as mineUsage } from './commands/mine_negatives.js';
import { exportCommand, usage as exportUsage } from './commands/export.js';
import { serve, usage as serveUsage } from './commands/serve.js';
import { indexCommand, usage as indexUsage } from './commands/index_cmd.js';
import { search, usage as searchUsage } from './commands/search.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string; summary: string }> = {
  quickstart: { run: quickstart, usage: quickUsage, summary: 'the whole lifecycle on the built-in model: encode, evaluate, fine-tune, export, search (offline)' },
  'create-model': { run: createModel, usage: createUsage, summary: 'write a randomly initialised BERT-family model' },
  encode: { run: encode, usage: encodeUsage, summary: 'embed a text or JSON-lines file into .npy or .jsonl' },
  info: { run: info, usage: infoUsage, summary: 'describe a model' },
  train: { run: train, usage: trainUsage, summary: 'fine-tune a model from a JSON configuration' },
  evaluate: { run: evaluate, usage: evaluateUsage, summary: 'sts, binary, triplets or retrieval metrics of a model' },
  data: { run: data, usage: dataUsage, summary: 'inspect a data file (rows, bad rows, labels, token lengths) or chunk documents' },
  'mine-negatives': { run: mineNegatives, usage: mineUsage, summary: 'add hard negatives to (anchor, positive) pairs' },
  export: { run: exportCommand, usage: exportUsage, summary: 'write a model as ONNX (transformers.js layout, sentence-embedding graph, int8/fp16)' },
  serve: { run: serve, usage: serveUsage, summary: 'HTTP embedding and search server (OpenAI and TEI routes, dynamic batching, metrics, web page)' },
  index: { run: indexCommand, usage: indexUsage, summary: 'build a vector index from a corpus, add to it, remove from it, describe it' },
  search: { run: search, usage: searchUsage, summary: 'semantic search of an index with a query or a file of queries' },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['Usage: sentencekit <command> [options]   (sentencekit <command> --help for its options)',
    '       sentencekit --version', '', 'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd) {
    // no command is a usage mistake like any other: usage on stderr, exit 2
    process.stderr.write(`sentencekit: name a command\n\n${help()}\n`);
    return 2;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(help() + '\n');
    return 0;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`sentencekit: unknown command "${cmd}"\n\n${help()}\n`);
    return 2;
  }
  try {
    await c.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sentencekit ${cmd}: ${e.message}\n\n${e.usage ?? c.usage}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`sentencekit ${cmd}: ${err.message}\n`);
    if (process.env.SENTENCEKIT_DEBUG) process.stderr.write(`${err.stack}\n`);
    const exitCode = (err as { exitCode?: unknown }).exitCode;
    return typeof exitCode === 'number' ? exitCode : 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
