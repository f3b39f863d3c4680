// Hard-negative mining and the vector search it runs on: mineHardNegatives (as
// sentence-transformers' util.mine_hard_negatives) over a SearchIndex, exact by default.

export {
  mineHardNegatives,
  miningRecords,
  summarizeScores,
  MINING_OUTPUT_FORMATS,
  type MineOptions,
  type MinedValue,
  type MiningEncoder,
  type MiningOutputFormat,
  type MiningPair,
  type MiningReport,
  type MiningResult,
  type SamplingStrategy,
  type ScoreSummary,
} from './hard_negatives.js';
export { ExactIndex, pairedCosine, type ExactIndexOptions, type IndexMetric, type SearchIndex, type SearchResult, type VectorBatch } from '../index/exact_search.js';
