// A few hundred generated inputs per fuzz target on every test run; the bench runs 100 000 each (bench/sections/fuzz).
import assert from 'node:assert/strict';
import { FUZZ_TARGETS } from '../../fuzz/fuzzTargets';

const INPUTS_PER_TARGET = 300;

describe('fuzzed input handling', () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: no crash, no hang, only KeyringErrors, no secret in any message`, async () => {
      const outcome = await target.run(INPUTS_PER_TARGET);
      assert.equal(outcome.failure, undefined, outcome.failure);
    });
  }
});
