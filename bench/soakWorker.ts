// One side of the soak (section 4) in its own process, so its memory is its own: tokens living 5 seconds with
// refresh-token rotation, 20 tool calls a second through one MCP client, authorized either by MCP Keyring or by the
// SDK's own OAuth, or by MCP Keyring with DPoP-bound tokens and nonces. Writes what it saw to the JSON file named on
// the command line.
// Usage: node --expose-gc --import tsx bench/soakWorker.ts <engine|sdk|dpop> <duration ms> <output.json>
import { writeFile } from 'node:fs/promises';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { DpopKeys, sendWithDpop } from '../src/core/dpop';
import { isKeyringError } from '../src/core/errors';
import { createTestBrowser } from '../test/fixtures/testBrowser';
import { createKeyringOver } from '../test/integration/testKeyring';
import { MemoryStore } from '../test/unit/core/fakes';
import { startBenchServers } from './lib/benchServers';
import { accessTokenOf, tokenTimes } from './lib/jwtClaims';
import { callOnTimetable } from './lib/timetable';
import { completePrompt, InMemoryOAuthProvider, sdkFetch, signInWithSdk } from './lib/sdkClient';
import { percentile } from './lib/stats';
import { SOAK_TOKEN_LIFETIME_SECONDS, type ProofCost, type SoakSide } from './sections/soak';

const CALLS_PER_SECOND = 20;
const CALL_TIMEOUT_MS = 30_000;
const PROOF_SAMPLES = 2_000;

const [side, durationArgument, outputPath] = process.argv.slice(2);
if ((side !== 'engine' && side !== 'sdk' && side !== 'dpop') || !durationArgument || !outputPath) {
  console.error('usage: soakWorker <engine|sdk|dpop> <duration ms> <output.json>');
  process.exit(2);
}
const durationMs = Number(durationArgument);

function memory() {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssBytes: rss, heapUsedBytes: heapUsed };
}

/**
 * What DPoP adds to one MCP request, without the network: the engine's own request path (`sendWithDpop`, a fresh
 * proof with `ath` signed by oauth4webapi) against a fetch that answers at once.
 */
async function proofCost(): Promise<ProofCost> {
  const binding = await new DpopKeys().create();
  const answer: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));
  const url = new URL('https://mcp.example/mcp');
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'proof' } } });
  const samples: number[] = [];
  for (let index = 0; index < PROOF_SAMPLES; index++) {
    const started = performance.now();
    await sendWithDpop(answer, url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, 'access-token-for-the-timing', binding);
    samples.push(performance.now() - started);
  }
  return { samples: samples.length, p50Ms: percentile(samples, 0.5), p99Ms: percentile(samples, 0.99) };
}

const isDpop = side === 'dpop';
const servers = await startBenchServers({ accessTokenTtlSeconds: SOAK_TOKEN_LIFETIME_SECONDS, refreshTokenRotation: true, dpopNonces: isDpop }, isDpop ? { nonces: true } : undefined);
const tokenEndpoint = servers.as.endpoints.token;
let loadStartedAt = 0;
/** Age of the token on every MCP request, and when each refresh left the client; times in ms since the load began. */
const tokenAges: [number, number][] = [];
const refreshesAt: number[] = [];

/** Sees every request the client side makes; keeps only timestamps and ages, never the tokens. */
function observing(inner: typeof fetch): typeof fetch {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const now = Date.now();
    if (loadStartedAt > 0 && url === tokenEndpoint) refreshesAt.push(now - loadStartedAt);
    const token = url === servers.mcp.url ? accessTokenOf(init) : undefined;
    const times = token && tokenTimes(token);
    if (loadStartedAt > 0 && times) tokenAges.push([now - loadStartedAt, now - times.issuedAt * 1000]);
    return inner(input, init);
  };
}

const browser = createTestBrowser();
let prompts = 0;
let transport: StreamableHTTPClientTransport;
if (side === 'engine' || side === 'dpop') {
  const keyring = createKeyringOver(new MemoryStore(), browser, observing(fetch));
  await keyring.signIn(servers.mcp.url);
  transport = new StreamableHTTPClientTransport(new URL(servers.mcp.url), { fetch: keyring.fetchFor(servers.mcp.url, { interactive: false, onSignInNeeded: () => prompts++ }) });
} else {
  const provider = new InMemoryOAuthProvider();
  const fetchFn = observing(sdkFetch);
  await signInWithSdk(provider, servers.mcp.url, browser, fetchFn);
  const signInPrompts = provider.prompts;
  // The person at the keyboard answers each sign-in prompt the SDK raises, one at a time, as fast as a script can.
  let answering: Promise<void> | undefined;
  const answerPrompts = () => {
    if (answering || provider.prompts === signInPrompts + prompts) return;
    prompts = provider.prompts - signInPrompts;
    answering = completePrompt(provider, servers.mcp.url, browser, fetchFn).catch(() => undefined).finally(() => (answering = undefined));
  };
  setInterval(answerPrompts, 100).unref();
  transport = new StreamableHTTPClientTransport(new URL(servers.mcp.url), { authProvider: provider, fetch: fetchFn });
}
const client = new Client({ name: `soak-${side}`, version: '0' });
const refusalsBefore = servers.mcp.dpopRefusals.length;
await client.connect(transport);
const unauthorizedBefore = servers.mcp.unauthorizedRequests.length;
const tokenRequestsBefore = servers.as.requestCount('token');

const memoryAtStart = memory();
loadStartedAt = Date.now();
let ok = 0;
const failures = new Map<string, number>();
const latencies: number[] = [];
const call = async (index: number) => {
  const started = performance.now();
  try {
    await client.callTool({ name: 'echo', arguments: { text: `call ${index}` } }, { timeout: CALL_TIMEOUT_MS });
    ok++;
  } catch (error) {
    const kind = isKeyringError(error) ? `${error.name} ${error.code}` : error instanceof Error ? error.name : 'unknown';
    failures.set(kind, (failures.get(kind) ?? 0) + 1);
  }
  latencies.push(performance.now() - started);
};
await callOnTimetable(durationMs, CALLS_PER_SECOND, call);
const loadMs = Date.now() - loadStartedAt;
const memoryAtEnd = memory();
await client.close();

const unauthorized = servers.mcp.unauthorizedRequests.slice(unauthorizedBefore);
const result: SoakSide = {
  side,
  durationMs: loadMs,
  calls: latencies.length,
  okCalls: ok,
  failedCalls: latencies.length - ok,
  failureKinds: Object.fromEntries(failures),
  // Tool calls only: the engine's probe (an initialize without a token, repeated when its five-minute address check
  // expires) is answered 401 by design and is no call.
  callsThatSaw401: unauthorized.filter(({ rpcMethod }) => rpcMethod === 'tools/call').length,
  unauthorizedReasons: countEach(unauthorized.map(({ reason, rpcMethod }) => (rpcMethod ? `${reason} (${rpcMethod})` : reason))),
  refreshes: servers.as.requestCount('token') - tokenRequestsBefore,
  signInPrompts: prompts,
  latenciesMs: latencies,
  tokenAges,
  refreshesAt,
  memoryAtStart,
  memoryAtEnd,
  dpop: isDpop ? { refusals: countEach(servers.mcp.dpopRefusals.slice(refusalsBefore)), proofCost: await proofCost() } : undefined,
};
await writeFile(outputPath, JSON.stringify(result));

function countEach(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
await servers.close();
process.exit(0);
