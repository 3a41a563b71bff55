// Section 1: what a sign-in costs, MCP Keyring against the SDK client, same servers, interleaved runs. Requests are
// counted at the servers; time runs from the first request to tokens in hand, browser step included.
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/client';
import { createTestBrowser } from '../../test/fixtures/testBrowser';
import { createKeyringOver } from '../../test/integration/testKeyring';
import { MemoryStore } from '../../test/unit/core/fakes';
import { clientRequestsSince, markLogs, startBenchServers, totalRequests, type BenchServers, type RequestCounts } from '../lib/benchServers';
import { InMemoryOAuthProvider, sdkFetch, signInWithSdk } from '../lib/sdkClient';
import { median } from '../lib/stats';

export const SIGN_IN_RUNS = 20;

export interface SignInSample {
  readonly ms: number;
  readonly requests: RequestCounts;
}

export type SignInKind = 'engineCold' | 'engineWarm' | 'sdkCold' | 'sdkWarm';

export interface SignInCostResult {
  readonly runs: number;
  readonly samples: Record<SignInKind, SignInSample[]>;
  readonly medianMs: Record<SignInKind, number>;
  readonly medianRequests: Record<SignInKind, number>;
  /** The request breakdown of the median-time run, per kind (every run of a kind made the same requests when `isStable`). */
  readonly breakdown: Record<SignInKind, RequestCounts>;
  readonly isStable: Record<SignInKind, boolean>;
}

async function measure(servers: BenchServers, work: () => Promise<unknown>): Promise<SignInSample> {
  const marks = markLogs(servers);
  const started = performance.now();
  await work();
  return { ms: performance.now() - started, requests: clientRequestsSince(servers, marks) };
}

/** The unauthenticated request an SDK transport makes first; its 401 names the resource metadata. */
async function sdkChallenge(serverUrl: string): Promise<URL | undefined> {
  const response = await fetch(serverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return extractWWWAuthenticateParams(response).resourceMetadataUrl;
}

export async function runSignInCost(runs = SIGN_IN_RUNS): Promise<SignInCostResult> {
  const servers = await startBenchServers();
  const samples: Record<SignInKind, SignInSample[]> = { engineCold: [], engineWarm: [], sdkCold: [], sdkWarm: [] };
  try {
    for (let run = 0; run < runs; run++) {
      const keyring = createKeyringOver(new MemoryStore(), createTestBrowser());
      samples.engineCold.push(await measure(servers, () => keyring.signIn(servers.mcp.url)));
      samples.engineWarm.push(await measure(servers, () => keyring.signIn(servers.mcp.url)));

      const provider = new InMemoryOAuthProvider();
      const browser = createTestBrowser();
      samples.sdkCold.push(await measure(servers, async () => signInWithSdk(provider, servers.mcp.url, browser, sdkFetch, await sdkChallenge(servers.mcp.url))));
      provider.forgetTokens();
      samples.sdkWarm.push(await measure(servers, async () => signInWithSdk(provider, servers.mcp.url, browser, sdkFetch, await sdkChallenge(servers.mcp.url))));
    }
  } finally {
    await servers.close();
  }
  const kinds = Object.keys(samples) as SignInKind[];
  const per = <T>(pick: (kind: SignInKind) => T) => Object.fromEntries(kinds.map((kind) => [kind, pick(kind)])) as Record<SignInKind, T>;
  const medianMs = per((kind) => median(samples[kind].map((sample) => sample.ms)));
  return {
    runs,
    samples,
    medianMs,
    medianRequests: per((kind) => median(samples[kind].map((sample) => totalRequests(sample.requests)))),
    breakdown: per((kind) => samples[kind][0]!.requests),
    isStable: per((kind) => new Set(samples[kind].map((sample) => JSON.stringify(sample.requests))).size === 1),
  };
}
