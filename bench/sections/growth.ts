// Section 9, growth with the number of servers (issue #15): what the servers view and the background refresh
// scheduler cost with 1, 50 and 500 servers configured, measured on the real classes in Node (activation with as
// many servers is measured in the editor, sections/extensionCost). Growth should be flat or linear with a small
// constant; the figures say which.
import { Keyring } from '../../src/core/keyring';
import { RefreshScheduler, type ScheduledCredential } from '../../src/core/refreshScheduler';
import { silentLogger } from '../../src/core/ports';
import type { ConfiguredServer } from '../../src/vscode/configuredServer';
import { toConfiguredServer } from '../../src/vscode/configuredServer';
import { ServerActivity } from '../../src/vscode/serverActivity';
import type { ServerRegistry } from '../../src/vscode/serverRegistry';
import type { StaticCredentials } from '../../src/vscode/serverSecrets';
import { ServerTreeProvider } from '../../src/vscode/serverTree';
import { FakeTime, MemoryStore } from '../../test/unit/core/fakes';
import { Emitter } from '../../src/core/events';
import { median, percentile } from '../lib/stats';

export const SERVER_COUNTS = [1, 50, 500] as const;
/** Renders of the whole view per count: the view renders every item once a second while it is visible (its countdown). */
const RENDERS = 50;
/** Simulated time for the scheduler: two lifetimes of one-hour tokens. */
const TOKEN_LIFETIME_MS = 60 * 60_000;
const SIMULATED_MS = 2 * TOKEN_LIFETIME_MS;

export interface GrowthPoint {
  readonly servers: number;
  /** One render of the view: getChildren and every item's getTreeItem, median and p99 over RENDERS. */
  readonly treeRenderP50Ms: number;
  readonly treeRenderP99Ms: number;
  /** Over SIMULATED_MS of the scheduler with every server signed in (one-hour tokens, refreshed as planned). */
  readonly schedulerWakeUpsPerHour: number;
  readonly schedulerPlanningsPerHour: number;
  readonly refreshesPerHour: number;
  /** CPU the scheduler's planning used per simulated hour (the engine's refreshes themselves replaced by a stub). */
  readonly schedulerCpuMsPerHour: number;
}

function servers(count: number): ConfiguredServer[] {
  return Array.from({ length: count }, (_, index) => toConfiguredServer({ url: `https://mcp-${index}.example/mcp`, label: `Server ${index}` })!);
}

async function treeRender(count: number): Promise<number[]> {
  const list = servers(count);
  const registryChanged = new Emitter<void>();
  const registry = { list: () => list, onDidChange: registryChanged.event } as unknown as ServerRegistry;
  // Nothing here reaches a network or a browser: the view only reads the store.
  const nowhere = () => Promise.reject(new Error('not in the growth bench'));
  const keyring = Keyring.create({ store: new MemoryStore(), fetch: nowhere, network: { fetch: nowhere, probe: nowhere }, openUrl: nowhere, createReceiver: nowhere });
  const activity = new ServerActivity();
  const credentialChanges = new Emitter<never>();
  const tree = new ServerTreeProvider({
    registry,
    keyring,
    activity,
    staticCredentials: { get: () => Promise.resolve(undefined) } as unknown as StaticCredentials,
    onDidChangeCredentials: credentialChanges.event,
    attentionOf: () => undefined,
    onDidChangeAttention: new Emitter<void>().event,
  });
  const samples: number[] = [];
  try {
    for (let index = 0; index < RENDERS; index++) {
      const started = performance.now();
      await Promise.all((await tree.getChildren()).map((server) => tree.getTreeItem(server)));
      samples.push(performance.now() - started);
    }
  } finally {
    tree.dispose();
    activity.dispose();
    keyring.dispose();
  }
  return samples;
}

async function scheduler(count: number): Promise<Pick<GrowthPoint, 'schedulerWakeUpsPerHour' | 'schedulerPlanningsPerHour' | 'refreshesPerHour' | 'schedulerCpuMsPerHour'>> {
  const time = new FakeTime();
  let wakeUps = 0;
  let plannings = 0;
  let refreshes = 0;
  // Signed in at moments spread over the last hour, as a person's servers are.
  const credentials = new Map<string, ScheduledCredential>(servers(count).map((server, index) => {
    const obtainedAt = time.now() - (index / count) * TOKEN_LIFETIME_MS;
    return [server.canonicalUrl, { serverUrl: server.canonicalUrl, obtainedAt, expiresAt: obtainedAt + TOKEN_LIFETIME_MS, needsSignIn: false, hasRefreshToken: true }];
  }));
  const instance = new RefreshScheduler({
    clock: time,
    timers: { setTimeout: (callback, ms) => time.setTimeout(() => (wakeUps++, callback()), ms), clearTimeout: (handle) => time.clearTimeout(handle) },
    random: Math.random,
    logger: silentLogger,
    refreshBeforeExpirySeconds: () => 60,
    // As the extension lists them: every credential, or one server's after that server changed.
    listCredentials: (serverUrl) => {
      plannings++;
      return Promise.resolve([...credentials.values()].filter((credential) => serverUrl === undefined || credential.serverUrl === serverUrl));
    },
    refresh: (serverUrl) => {
      refreshes++;
      const obtainedAt = time.now();
      credentials.set(serverUrl, { serverUrl, obtainedAt, expiresAt: obtainedAt + TOKEN_LIFETIME_MS, needsSignIn: false, hasRefreshToken: true });
      return Promise.resolve();
    },
  });
  const cpuBefore = process.cpuUsage();
  try {
    await instance.reschedule();
    await time.advance(SIMULATED_MS);
  } finally {
    instance.dispose();
  }
  const cpu = process.cpuUsage(cpuBefore);
  const hours = SIMULATED_MS / 3_600_000;
  return { schedulerWakeUpsPerHour: wakeUps / hours, schedulerPlanningsPerHour: plannings / hours, refreshesPerHour: refreshes / hours, schedulerCpuMsPerHour: (cpu.user + cpu.system) / 1000 / hours };
}

export async function runGrowth(): Promise<GrowthPoint[]> {
  const points: GrowthPoint[] = [];
  for (const count of SERVER_COUNTS) {
    const renders = await treeRender(count);
    points.push({ servers: count, treeRenderP50Ms: median(renders), treeRenderP99Ms: percentile(renders, 0.99), ...(await scheduler(count)) });
  }
  return points;
}
