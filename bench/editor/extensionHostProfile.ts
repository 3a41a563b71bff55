// Whose work the extension host did during the editor soak's calls: its CPU time, and a CPU profile and a sampling
// heap profile taken through the inspector of its own isolate, each sample put down to the code that did it. The
// extension host is one thread for VS Code's MCP client, every extension and MCP Keyring's relay, so process-wide
// figures alone cannot say whose cost a difference between two runs is.
import { Session } from 'node:inspector/promises';
import type { Profiler, HeapProfiler } from 'node:inspector';

/**
 * Who a sample belongs to. The innermost frame that is MCP Keyring's (its bundle) or the editor's proxy layer
 * (@vscode/proxy-agent, which VS Code wraps around every fetch and http(s) request an extension makes, reading the
 * person's proxy and certificate settings each time) decides; code either of them calls (VS Code's configuration
 * reads, Node's fetch) is theirs. A sample with neither on its stack is the rest of the editor and Node.
 */
export type CostOrigin = 'keyring' | 'proxyLayer' | 'rest';

export interface ExtensionHostCost {
  /** User and system CPU of the whole process over the window. */
  readonly cpuMs: number;
  /** CPU profile self time by origin (idle and the profiler's own bookkeeping left out). */
  readonly cpuProfileMs: Record<CostOrigin, number>;
  /** Bytes allocated by origin over the window, as the sampling heap profiler saw them, collected objects included. */
  readonly allocatedBytes: Record<CostOrigin, number>;
}

function originOf(url: string, keyringBundle: string): CostOrigin | undefined {
  if (url.includes(keyringBundle)) return 'keyring';
  if (url.includes('@vscode/proxy-agent')) return 'proxyLayer';
  return undefined;
}

function emptyOrigins(): Record<CostOrigin, number> {
  return { keyring: 0, proxyLayer: 0, rest: 0 };
}

/**
 * Self time of a CPU profile by origin, idle time left out. Garbage collection and native work outside JavaScript
 * (`(program)`) go to `rest`: the profile cannot say whose objects or sockets they served.
 */
function cpuByOrigin(profile: Profiler.Profile, keyringBundle: string): Record<CostOrigin, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const originOfNode = new Map<number, CostOrigin | undefined>();
  const resolve = (id: number): CostOrigin | undefined => {
    if (originOfNode.has(id)) return originOfNode.get(id);
    const own = originOf(byId.get(id)!.callFrame.url, keyringBundle);
    const parent = parentOf.get(id);
    const origin = own ?? (parent === undefined ? undefined : resolve(parent));
    originOfNode.set(id, origin);
    return origin;
  };
  const totals = emptyOrigins();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    totals[resolve(id) ?? 'rest'] += (deltas[index] ?? 0) / 1000;
  });
  return totals;
}

function allocationsByOrigin(profile: HeapProfiler.SamplingHeapProfile, keyringBundle: string): Record<CostOrigin, number> {
  const totals = emptyOrigins();
  const walk = (node: HeapProfiler.SamplingHeapProfileNode, inherited: CostOrigin | undefined) => {
    const origin = originOf(node.callFrame.url, keyringBundle) ?? inherited;
    totals[origin ?? 'rest'] += node.selfSize;
    for (const child of node.children) walk(child, origin);
  };
  walk(profile.head, undefined);
  return totals;
}

/** Starts profiling the extension host; the returned function stops it and tells whose cost the window was. */
export async function profileExtensionHost(keyringBundle: string): Promise<() => Promise<ExtensionHostCost>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  // Collected objects too: the cost is what was allocated, most of which a short request leaves as garbage.
  // (The flags are V8's since 2022; Node's typings do not list them yet.)
  await session.post('HeapProfiler.startSampling', { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as HeapProfiler.StartSamplingParameterType);
  const cpuAtStart = process.cpuUsage();
  return async () => {
    const cpu = process.cpuUsage(cpuAtStart);
    try {
      const { profile: cpuProfile } = await session.post('Profiler.stop');
      const { profile: heapProfile } = await session.post('HeapProfiler.stopSampling');
      return {
        cpuMs: (cpu.user + cpu.system) / 1000,
        cpuProfileMs: cpuByOrigin(cpuProfile, keyringBundle),
        allocatedBytes: allocationsByOrigin(heapProfile, keyringBundle),
      };
    } finally {
      session.disconnect();
    }
  };
}
