// Section 7: every fuzz target (test/fuzz/fuzzTargets.ts) over 100 000 generated inputs.
import { FUZZ_TARGETS, type FuzzOutcome } from '../../test/fuzz/fuzzTargets';

export const FUZZ_INPUTS = 100_000;

export async function runFuzz(inputs = FUZZ_INPUTS): Promise<FuzzOutcome[]> {
  const outcomes: FuzzOutcome[] = [];
  for (const target of FUZZ_TARGETS) outcomes.push(await target.run(inputs));
  return outcomes;
}
