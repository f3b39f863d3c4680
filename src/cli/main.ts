#!/usr/bin/env node
// The `sentencekit` command: dispatches to one file per sub-command and turns errors into a
// one-line message (with usage for command-line mistakes) and a non-zero exit code.

import { UsageError } from './args.js';
import { VERSION } from '../version.js';
type Command = { run: (argv: string[]) => Promise<void>; usage: string };

// Each command's module loads only when it runs (encode need not load the server, the index
// libraries or PostgreSQL's client: about a tenth of a second of start-up).
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  quickstart: { load: async () => { const m = await import('./commands/quickstart.js'); return { run: m.quickstart, usage: m.usage }; }, summary: 'the whole lifecycle on the built-in model: encode, evaluate, fine-tune, export, search (offline)' },
  'create-model': { load: async () => { const m = await import('./commands/create_model.js'); return { run: m.createModel, usage: m.usage }; }, summary: 'write a randomly initialised BERT-family model' },
  encode: { load: async () => { const m = await import('./commands/encode.js'); return { run: m.encode, usage: m.usage }; }, summary: 'embed a text or JSON-lines file into .npy or .jsonl' },
  info: { load: async () => { const m = await import('./commands/info.js'); return { run: m.info, usage: m.usage }; }, summary: 'describe a model' },
  train: { load: async () => { const m = await import('./commands/train.js'); return { run: m.train, usage: m.usage }; }, summary: 'fine-tune a model from a JSON configuration' },
  evaluate: { load: async () => { const m = await import('./commands/evaluate.js'); return { run: m.evaluate, usage: m.usage }; }, summary: 'sts, binary, triplets or retrieval metrics of a model' },
  data: { load: async () => { const m = await import('./commands/data.js'); return { run: m.data, usage: m.usage }; }, summary: 'inspect a data file (rows, bad rows, labels, token lengths) or chunk documents' },
  'mine-negatives': { load: async () => { const m = await import('./commands/mine_negatives.js'); return { run: m.mineNegatives, usage: m.usage }; }, summary: 'add hard negatives to (anchor, positive) pairs' },
  export: { load: async () => { const m = await import('./commands/export.js'); return { run: m.exportCommand, usage: m.usage }; }, summary: 'write a model as ONNX (transformers.js layout, sentence-embedding graph, int8/fp16)' },
  serve: { load: async () => { const m = await import('./commands/serve.js'); return { run: m.serve, usage: m.usage }; }, summary: 'HTTP embedding and search server (OpenAI and TEI routes, dynamic batching, metrics, web page)' },
  index: { load: async () => { const m = await import('./commands/index_cmd.js'); return { run: m.indexCommand, usage: m.usage }; }, summary: 'build a vector index from a corpus, add to it, remove from it, describe it' },
  search: { load: async () => { const m = await import('./commands/search.js'); return { run: m.search, usage: m.usage }; }, summary: 'semantic search of an index with a query or a file of queries' },
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
  const entry = COMMANDS[cmd];
  if (!entry) {
    process.stderr.write(`sentencekit: unknown command "${cmd}"\n\n${help()}\n`);
    return 2;
  }
  const c = await entry.load();
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
