// Memory of the extension host as the in-editor bench tests read it. The extension host runs without --expose-gc,
// but V8 lets the flag be turned on at run time and hands `gc` to a context created afterwards: heap figures then
// count live objects rather than whatever garbage was not yet collected.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MemorySample } from '../sections/soak';

function obtainGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const gc = obtainGc();

/** Whether the samples below come after a full collection. */
export const isGcForced = gc !== undefined;

export function memoryAfterGc(): MemorySample {
  gc?.();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal, externalBytes: usage.external, arrayBuffersBytes: usage.arrayBuffers };
}
