// Child process for the start-up cache tests: runSteps() in a fresh process, printing one JSON
// line (losses, state hash, the optimised-model cache's counters).

import { runSteps } from './startup_steps.js';

process.stdout.write(JSON.stringify(await runSteps()) + '\n');
