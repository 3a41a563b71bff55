// Section 6: the real command line killed (SIGKILL) at random moments of a sign-in and of a refresh, 200 times.
// After each kill: is the store still readable, and does a credential still work — the old one or the new one?
// The one way to lose a working credential is a kill after the server rotated the refresh token but before the
// new one reached the disk; those are counted apart, since no client can avoid them without help from the server.
// Then the same with Ctrl-C (SIGINT), which the command line can act on: there, nothing may be lost.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isKeyringError } from '../../src/core/errors';
import { FileStore } from '../../src/node/fileStore';
import { createTestBrowser } from '../../test/fixtures/testBrowser';
import { createTestKeyring } from '../../test/integration/testKeyring';
import { startBenchServers, type BenchServers } from '../lib/benchServers';
import { startCli } from '../../test/integration/cliProcess';

export const CRASH_ITERATIONS = 200;
export const INTERRUPT_ITERATIONS = 50;

type Operation = 'signIn' | 'refresh';
/** Where the kill landed, as the authorization server saw it. */
type KillPoint = 'beforeTokenRequest' | 'afterTokenRequest' | 'finishedBeforeKill';
type Outcome = 'works' | 'unreadable' | 'lostToRotation' | 'broken';
type StopSignal = 'SIGKILL' | 'SIGINT';

interface Iteration {
  readonly operation: Operation;
  readonly stopSignal: StopSignal;
  readonly killAfterMs: number;
  readonly killPoint: KillPoint;
  readonly outcome: Outcome;
}

export interface StopTally {
  readonly iterations: number;
  /** Stopped before the command finished its work. */
  readonly killed: number;
  readonly storeReadable: number;
  readonly credentialWorks: number;
  readonly lostToRotation: number;
  readonly broken: number;
  readonly byOperation: Record<Operation, Record<KillPoint, number>>;
}

export interface CrashSafetyResult extends StopTally {
  readonly killWindowMs: Record<Operation, readonly [number, number]>;
  /** The same, stopped with SIGINT (Ctrl-C) instead of SIGKILL. */
  readonly interrupted: StopTally;
}

/** Marks the stored credential expired, so the next `token` run must refresh. */
async function expireStoredCredential(store: FileStore): Promise<void> {
  for (const key of await store.keys('credential/')) {
    const record = JSON.parse((await store.get(key))!) as { expiresAt?: number; obtainedAt: number };
    await store.set(key, JSON.stringify({ ...record, obtainedAt: Date.now() - 120_000, expiresAt: Date.now() - 60_000 }));
  }
}

async function isStoreReadable(directory: string): Promise<boolean> {
  try {
    const store = await FileStore.open(directory);
    for (const key of await store.keys('')) JSON.parse((await store.get(key)) ?? 'null');
    return true;
  } catch {
    return false;
  }
}

/** A credential works when the engine hands out a token (refreshing if it must) and the MCP server accepts it. */
async function credentialWorks(directory: string, servers: BenchServers): Promise<'works' | 'needsSignIn' | 'broken'> {
  try {
    const keyring = await createTestKeyring(directory, createTestBrowser());
    const { accessToken } = await keyring.getAccessToken(servers.mcp.url, { interactive: false });
    const response = await fetch(servers.mcp.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return response.ok ? 'works' : 'broken';
  } catch (error) {
    return isKeyringError(error, 'needs_sign_in') || isKeyringError(error, 'not_signed_in') ? 'needsSignIn' : 'broken';
  }
}

function cliArgs(operation: Operation, servers: BenchServers, directory: string): string[] {
  return [operation === 'signIn' ? 'login' : 'token', servers.mcp.url, '--store', directory, '--no-browser', '--timeout', '20'];
}

/**
 * The moment the operation reaches the servers: a sign-in's first request to the MCP server, a refresh's token
 * request. Kills are timed from there, so that they land in the work itself rather than in Node's start-up, however
 * slow start-up is on a busy machine.
 */
function markerCount(operation: Operation, servers: BenchServers): number {
  return operation === 'signIn' ? servers.mcp.requestLog.length : servers.as.requestCount('token');
}

interface RunResult {
  /** From the marker to the end of the process; undefined when it never got that far. */
  readonly afterMarkerMs: number | undefined;
  readonly finished: boolean;
}

/** Runs the command line to the end (or the kill), playing the person when it prints a sign-in URL. */
async function runToEnd(operation: Operation, servers: BenchServers, directory: string, stop?: { afterMarkerMs: number; signal: StopSignal }): Promise<RunResult> {
  const before = markerCount(operation, servers);
  const cli = startCli(cliArgs(operation, servers, directory));
  const browser = createTestBrowser();
  let browsing: Promise<void> = Promise.resolve();
  cli.child.stderr!.on('data', (chunk: Buffer) => {
    const url = /https?:\/\/\S+\/auth\S*/.exec(chunk.toString())?.[0];
    if (url) browsing = browser.open(url).catch(() => undefined);
  });
  let markedAt: number | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const watcher = setInterval(() => {
    if (markedAt !== undefined || markerCount(operation, servers) === before) return;
    markedAt = performance.now();
    if (stop) killTimer = setTimeout(() => cli.child.kill(stop.signal), stop.afterMarkerMs);
  }, 1);
  const run = await cli.done;
  clearInterval(watcher);
  clearTimeout(killTimer);
  await browsing;
  return { afterMarkerMs: markedAt === undefined ? undefined : performance.now() - markedAt, finished: run.signal === null && run.code === 0 };
}

/** Stops the command line `count` times at random moments, sign-ins and refreshes alternately, and sees what survived. */
async function stopRepeatedly(count: number, stopSignal: StopSignal, servers: BenchServers, store: FileStore, directory: string, killWindowMs: Record<Operation, readonly [number, number]>): Promise<Iteration[]> {
  const results: Iteration[] = [];
  for (let index = 0; index < count; index++) {
    const operation: Operation = index % 2 === 0 ? 'signIn' : 'refresh';
    if (operation === 'refresh') await expireStoredCredential(store);
    const [low, high] = killWindowMs[operation];
    const killAfterMs = low + Math.random() * (high - low);
    const tokenRequestsBefore = servers.as.requestCount('token');
    const { finished } = await runToEnd(operation, servers, directory, { afterMarkerMs: killAfterMs, signal: stopSignal });
    const killPoint: KillPoint = finished ? 'finishedBeforeKill' : servers.as.requestCount('token') > tokenRequestsBefore ? 'afterTokenRequest' : 'beforeTokenRequest';
    let outcome: Outcome;
    if (!(await isStoreReadable(directory))) outcome = 'unreadable';
    else {
      const works = await credentialWorks(directory, servers);
      outcome = works === 'works' ? 'works' : works === 'needsSignIn' && operation === 'refresh' && killPoint === 'afterTokenRequest' ? 'lostToRotation' : 'broken';
    }
    results.push({ operation, stopSignal, killAfterMs, killPoint, outcome });
    // Start the next iteration from a working sign-in.
    if (outcome !== 'works') {
      await rm(directory, { recursive: true, force: true });
      await (await createTestKeyring(directory, createTestBrowser())).signIn(servers.mcp.url);
    }
    await delay(5);
  }
  return results;
}

function tally(results: readonly Iteration[]): StopTally {
  const points = (operation: Operation) => {
    const counts: Record<KillPoint, number> = { beforeTokenRequest: 0, afterTokenRequest: 0, finishedBeforeKill: 0 };
    for (const result of results) if (result.operation === operation) counts[result.killPoint]++;
    return counts;
  };
  const count = (outcome: Outcome) => results.filter((result) => result.outcome === outcome).length;
  return {
    iterations: results.length,
    killed: results.filter((result) => result.killPoint !== 'finishedBeforeKill').length,
    storeReadable: results.length - count('unreadable'),
    credentialWorks: count('works'),
    lostToRotation: count('lostToRotation'),
    broken: count('broken'),
    byOperation: { signIn: points('signIn'), refresh: points('refresh') },
  };
}

export async function runCrashSafety(iterations = CRASH_ITERATIONS, interruptions = INTERRUPT_ITERATIONS): Promise<CrashSafetyResult> {
  const servers = await startBenchServers({ refreshTokenRotation: true });
  const directory = await mkdtemp(path.join(tmpdir(), 'mcp-keyring-crash-'));
  try {
    // Calibrate: how long each operation runs after its marker, so stops spread over all of it (and a little past).
    const signInMs = (await runToEnd('signIn', servers, directory)).afterMarkerMs ?? 0;
    const store = await FileStore.open(directory);
    await expireStoredCredential(store);
    const refreshMs = (await runToEnd('refresh', servers, directory)).afterMarkerMs ?? 0;
    const killWindowMs: Record<Operation, readonly [number, number]> = { signIn: [0, signInMs * 1.1], refresh: [0, refreshMs * 1.1] };
    const killed = tally(await stopRepeatedly(iterations, 'SIGKILL', servers, store, directory, killWindowMs));
    const interrupted = tally(await stopRepeatedly(interruptions, 'SIGINT', servers, store, directory, killWindowMs));
    return { ...killed, killWindowMs, interrupted };
  } finally {
    await rm(directory, { recursive: true, force: true });
    await servers.close();
  }
}
