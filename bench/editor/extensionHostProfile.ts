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

/** Visits every node of a call tree with its origin: its own frame's, else that of the nearest caller that has one. */
function walkOrigins<Node>(root: Node, frameUrl: (node: Node) => string, children: (node: Node) => readonly Node[], keyringBundle: string, visit: (node: Node, origin: CostOrigin) => void): void {
  const walk = (node: Node, inherited: CostOrigin | undefined) => {
    const origin = originOf(frameUrl(node), keyringBundle) ?? inherited;
    visit(node, origin ?? 'rest');
    for (const child of children(node)) walk(child, origin);
  };
  walk(root, undefined);
}

/**
 * Self time of a CPU profile by origin, idle time left out. Garbage collection and native work outside JavaScript
 * (`(program)`) go to `rest`: the profile cannot say whose objects or sockets they served.
 */
function cpuByOrigin(profile: Profiler.Profile, keyringBundle: string): Record<CostOrigin, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const originById = new Map<number, CostOrigin>();
  // V8 lists the root first.
  walkOrigins(profile.nodes[0]!, (node) => node.callFrame.url, (node) => (node.children ?? []).map((id) => byId.get(id)!), keyringBundle, (node, origin) => originById.set(node.id, origin));
  const totals = emptyOrigins();
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, index) => {
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    totals[originById.get(id) ?? 'rest'] += (deltas[index] ?? 0) / 1000;
  });
  return totals;
}

function allocationsByOrigin(profile: HeapProfiler.SamplingHeapProfile, keyringBundle: string): Record<CostOrigin, number> {
  const totals = emptyOrigins();
  walkOrigins(profile.head, (node) => node.callFrame.url, (node) => node.children, keyringBundle, (node, origin) => (totals[origin] += node.selfSize));
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
