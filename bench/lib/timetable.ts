// Load on a fixed timetable, shared by the soak's worker processes and its in-editor test: calls start on the clock
// whether or not earlier ones have answered, so a slow call overlaps the next ones instead of thinning out the load.

/**
 * Starts `call(index)` `perSecond` times a second for `durationMs` and resolves once every call settled, with the
 * most that were waiting at once. `call` must not reject: each call records its own outcome.
 */
export async function callOnTimetable(durationMs: number, perSecond: number, call: (index: number) => Promise<void>): Promise<{ mostInFlight: number }> {
  const started = performance.now();
  const total = Math.round((durationMs / 1000) * perSecond);
  const inFlight = new Set<Promise<void>>();
  let mostInFlight = 0;
  for (let index = 0; index < total; index++) {
    const wait = started + (index * 1000) / perSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const running = call(index).finally(() => inFlight.delete(running));
    inFlight.add(running);
    mostInFlight = Math.max(mostInFlight, inFlight.size);
  }
  await Promise.all(inFlight);
  return { mostInFlight };
}
