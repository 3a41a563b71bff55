// Section 3: many callers want a token at the moment it expires. Exactly one refresh should reach the authorization
// server — from 500 callers in one process, and from two command-line processes sharing one store (where a second
// refresh would also trip refresh-token rotation).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createTestBrowser } from '../../test/fixtures/testBrowser';
import { createTestKeyring } from '../../test/integration/testKeyring';
import { startBenchServers, type BenchServers } from '../lib/benchServers';
import { startCli } from '../../test/integration/cliProcess';

export const STORM_CALLERS = 500;
const TOKEN_LIFETIME_SECONDS = 3;

export interface StormResult {
  readonly callers: number;
  readonly refreshRequests: number;
  readonly failedCallers: number;
  readonly distinctTokens: number;
  readonly allServedMs: number;
}

export interface ProcessStormResult {
  readonly processes: number;
  readonly refreshRequests: number;
  readonly failedProcesses: number;
  readonly invalidGrantSeen: boolean;
  readonly sameToken: boolean;
  readonly allServedMs: number;
}

export interface RefreshStormResult {
  readonly inProcess: StormResult;
  readonly twoProcesses: ProcessStormResult;
}

async function signedInStore(servers: BenchServers) {
  const directory = await mkdtemp(path.join(tmpdir(), 'mcp-keyring-bench-'));
  const keyring = await createTestKeyring(directory, createTestBrowser());
  await keyring.signIn(servers.mcp.url);
  return { directory, keyring };
}

/** Until the access token just obtained has expired. */
const untilExpired = () => delay(TOKEN_LIFETIME_SECONDS * 1000 + 100);

async function inProcessStorm(servers: BenchServers): Promise<StormResult> {
  const { directory, keyring } = await signedInStore(servers);
  try {
    await untilExpired();
    const before = servers.as.requestCount('token');
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: STORM_CALLERS }, () => keyring.getAccessToken(servers.mcp.url, { interactive: false })));
    const allServedMs = performance.now() - started;
    const tokens = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.accessToken] : []));
    return {
      callers: STORM_CALLERS,
      refreshRequests: servers.as.requestCount('token') - before,
      failedCallers: results.length - tokens.length,
      distinctTokens: new Set(tokens).size,
      allServedMs,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function twoProcessStorm(servers: BenchServers): Promise<ProcessStormResult> {
  const { directory } = await signedInStore(servers);
  try {
    await untilExpired();
    const before = servers.as.requestCount('token');
    const started = performance.now();
    const runs = await Promise.all([1, 2].map(() => startCli(['token', servers.mcp.url, '--store', directory, '--no-browser', '--timeout', '20']).done));
    const allServedMs = performance.now() - started;
    return {
      processes: runs.length,
      refreshRequests: servers.as.requestCount('token') - before,
      failedProcesses: runs.filter((run) => run.code !== 0).length,
      invalidGrantSeen: runs.some((run) => /invalid_grant|needs_sign_in/.test(run.stderr)),
      sameToken: runs[0]!.stdout.trim() !== '' && runs[0]!.stdout === runs[1]!.stdout,
      allServedMs,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

export async function runRefreshStorm(): Promise<RefreshStormResult> {
  const servers = await startBenchServers({ accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS, refreshTokenRotation: true });
  try {
    return { inProcess: await inProcessStorm(servers), twoProcesses: await twoProcessStorm(servers) };
  } finally {
    await servers.close();
  }
}
