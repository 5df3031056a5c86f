import fc from 'fast-check';

// One place configures every property test: CI passes a fresh FC_SEED each run
// (printed by .ci/run) so runs explore new inputs and any failure replays with
// `FC_SEED=<n> npx vitest run`.
const seed = process.env['FC_SEED'];
const numRuns = process.env['FC_NUM_RUNS'];
fc.configureGlobal({
  ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
  ...(numRuns !== undefined && numRuns !== '' ? { numRuns: Number(numRuns) } : {}),
});
