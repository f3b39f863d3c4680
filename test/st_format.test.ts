// Tests for the sentence-transformers format rules: type names of every version, Pooling
// configs by flags and by pooling_mode (read from files 6.0.1 wrote), max length and
// do_lower_case as each version keeps them, what each format writes, and the torch.save
// writer read back by the restricted reader.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  detectFormat, moduleKind, moduleTypeName, poolingConfigJson, readPoolingConfig, readTransformerConfig, transformerConfigJson,
} from '../src/models/st_format.js';
import { parseTorchFile, serializeTorchFile } from '../src/models/torch_pickle.js';
import type { SafeTensor } from '../src/models/safetensors.js';

const FIX = resolve('test', 'fixtures', 'interop');
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIX, p), 'utf8')) as Record<string, unknown>;

test('module type names of 2.x, 3.x-5.x and 6.x map to one module each; unknown names to null', () => {
  for (const t of ['sentence_transformers.models.Transformer', 'sentence_transformers.models.transformer.Transformer', 'sentence_transformers.base.modules.transformer.Transformer']) assert.equal(moduleKind(t), 'Transformer');
  assert.equal(moduleKind('sentence_transformers.sentence_transformer.modules.pooling.Pooling'), 'Pooling');
  assert.equal(moduleKind('sentence_transformers.base.modules.dense.Dense'), 'Dense');
  assert.equal(moduleKind('sentence_transformers.base.modules.normalize.Normalize'), 'Normalize');
  assert.equal(moduleKind('sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding'), 'StaticEmbedding');
  assert.equal(moduleKind('sentence_transformers.models.StaticEmbedding'), 'StaticEmbedding');
  assert.equal(moduleKind('sentence_transformers.models.LSTM'), null);
  // every written name reads back as its module
  for (const k of ['Transformer', 'Pooling', 'Dense', 'Normalize', 'StaticEmbedding'] as const) for (const f of ['v2', 'v3', 'v6'] as const) assert.equal(moduleKind(moduleTypeName(k, f)), k);
  // what 6.0.1 wrote
  const types = (json('st6_cls_max_dense/modules.json') as unknown as Array<{ type: string }>).map((m) => moduleKind(m.type));
  assert.deepEqual(types, ['Transformer', 'Pooling', 'Dense', 'Normalize']);
});

test('Pooling: 6.x pooling_mode (string, list in its order), 2.x-5.x flags (fixed order, mean on by default)', () => {
  assert.deepEqual(readPoolingConfig(json('st6_mean_normalize/1_Pooling/config.json'), 'p'), { dimension: 16, modes: ['mean'], includePrompt: true });
  assert.deepEqual(readPoolingConfig(json('st6_cls_max_dense/1_Pooling/config.json'), 'p'), { dimension: 16, modes: ['max', 'cls'], includePrompt: true });
  assert.deepEqual(readPoolingConfig(json('st6_prompts/1_Pooling/config.json'), 'p').includePrompt, false);
  assert.deepEqual(readPoolingConfig(json('v2_layout/1_Pooling/config.json'), 'p').modes, ['max', 'mean']);
  assert.deepEqual(readPoolingConfig({ word_embedding_dimension: 4 }, 'p').modes, ['mean']);
  assert.deepEqual(readPoolingConfig({ word_embedding_dimension: 4, pooling_mode_lasttoken: true, pooling_mode_mean_tokens: false }, 'p').modes, ['lasttoken']);
  assert.deepEqual(readPoolingConfig({ word_embedding_dimension: 4, pooling_mode_cls_token: true }, 'p').modes, ['cls', 'mean']);
  assert.throws(() => readPoolingConfig({ embedding_dimension: 4, pooling_mode: 'median' }, 'x/config.json'), /x\/config\.json: pooling_mode "median" is not one of/);
  assert.throws(() => readPoolingConfig({ pooling_mode: 'mean' }, 'x/config.json'), /x\/config\.json: neither embedding_dimension/);
  assert.throws(() => readPoolingConfig({ word_embedding_dimension: 4, pooling_mode_mean_tokens: false }, 'x/config.json'), /every pooling_mode_\* flag is false/);
});

test('Pooling written: v3 keeps only keys 2.x knows unless a mode needs more; v6 as 6.0.1 writes; order 6.x-only', () => {
  assert.deepEqual(poolingConfigJson({ dimension: 8, modes: ['mean'], includePrompt: true }, 'v3'), {
    word_embedding_dimension: 8, pooling_mode_cls_token: false, pooling_mode_max_tokens: false, pooling_mode_mean_tokens: true, pooling_mode_mean_sqrt_len_tokens: false,
  });
  assert.deepEqual(poolingConfigJson({ dimension: 8, modes: ['lasttoken'], includePrompt: false }, 'v3'), {
    word_embedding_dimension: 8, pooling_mode_cls_token: false, pooling_mode_max_tokens: false, pooling_mode_mean_tokens: false, pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_lasttoken: true, include_prompt: false,
  });
  for (const name of ['st6_mean_normalize', 'st6_cls_max_dense', 'st6_prompts', 'st6_weightedmean']) {
    const cfg = json(`${name}/1_Pooling/config.json`);
    assert.deepEqual(poolingConfigJson(readPoolingConfig(cfg, 'p'), 'v6'), cfg, name);
  }
  assert.throws(() => poolingConfigJson({ dimension: 8, modes: ['max', 'cls'], includePrompt: true }, 'v3'), /cannot write the v3 format: .*order.*format: 'v6'/);
  // every v3 config reads back to the same spec
  for (const modes of [['cls'], ['max', 'mean'], ['mean_sqrt_len_tokens'], ['weightedmean'], ['lasttoken'], ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken']] as const) {
    const spec = { dimension: 3, modes: [...modes], includePrompt: modes.length > 1 };
    assert.deepEqual(readPoolingConfig(poolingConfigJson(spec, 'v3'), 'p'), spec);
    assert.deepEqual(readPoolingConfig(poolingConfigJson(spec, 'v6'), 'p'), spec);
  }
});

test('max length and do_lower_case: sentence_bert_config.json first, then tokenizer_config.json (6.x)', () => {
  const tc6 = json('st6_mean_normalize/tokenizer_config.json');
  assert.deepEqual(readTransformerConfig(json('st6_mean_normalize/sentence_bert_config.json'), 's', tc6), { maxSeqLength: 48, maxSeqLengthFrom: 'tokenizer_config.json', doLowerCase: false });
  assert.deepEqual(readTransformerConfig(json('v3_lowercase/sentence_bert_config.json'), 's', json('v3_lowercase/tokenizer_config.json')), { maxSeqLength: 48, maxSeqLengthFrom: 'sentence_bert_config.json', doLowerCase: true });
  assert.deepEqual(readTransformerConfig({}, 's', { model_max_length: 1e30 }), { maxSeqLength: null, maxSeqLengthFrom: null, doLowerCase: false });
  assert.equal(readTransformerConfig({ tokenizer_args: { model_max_length: 100 } }, 's', { model_max_length: 200 }).maxSeqLength, 100);
  assert.throws(() => readTransformerConfig({ max_seq_length: 0 }, 'x/sbc.json', null), /x\/sbc\.json/);
  assert.deepEqual(transformerConfigJson(48, false, 'v6'), json('st6_mean_normalize/sentence_bert_config.json'));
  assert.deepEqual(transformerConfigJson(48, true, 'v3'), { max_seq_length: 48, do_lower_case: true });
});

test('the format of a directory: 6.x type names, the saved version, else the Pooling keys', () => {
  const types = (name: string): string[] => (json(`${name}/modules.json`) as unknown as Array<{ type: string }>).map((m) => m.type);
  assert.deepEqual(detectFormat(types('st6_prompts'), json('st6_prompts/config_sentence_transformers.json'), null), { name: 'sentence-transformers 6.x', format: 'v6', savedBy: 'sentence-transformers 6.0.1' });
  assert.equal(detectFormat(types('v2_layout'), json('v2_layout/config_sentence_transformers.json'), null).name, 'sentence-transformers 2.x');
  assert.equal(detectFormat(types('v2_layout'), { __version__: { sentence_transformers: '3.4.1' } }, null).name, 'sentence-transformers 3.x-5.x');
  assert.equal(detectFormat(types('v2_layout'), {}, { word_embedding_dimension: 4 }).name, 'sentence-transformers 2.x-5.x');
  assert.equal(detectFormat(types('v2_layout'), {}, { word_embedding_dimension: 4, include_prompt: true }).name, 'sentence-transformers 3.x-5.x');
});

test('torch.save writer: every dtype and shape reads back equal (torch.load reads it too: check_interop_reverse.py loads v2-format folders)', () => {
  const t = (dtype: SafeTensor['dtype'], shape: number[], bytes: number[]): SafeTensor => ({ dtype, shape, data: Uint8Array.from(bytes) });
  const m = new Map<string, SafeTensor>([
    ['w', t('F32', [2, 1], [0, 0, 128, 63, 0, 0, 0, 64])],
    ['h', t('F16', [1], [0, 60])],
    ['scalar', t('F32', [], [0, 0, 64, 64])],
    ['ids', t('I64', [1], [1, 0, 0, 0, 0, 0, 0, 0])],
    ['big', t('U8', [300], Array.from({ length: 300 }, (_, i) => i % 256))],
  ]);
  const back = parseTorchFile(serializeTorchFile(m), 'ours.bin');
  assert.deepEqual([...back.keys()], [...m.keys()]);
  for (const [k, v] of m) assert.deepEqual({ ...back.get(k)!, data: Array.from(back.get(k)!.data) }, { ...v, data: Array.from(v.data) }, k);
});
