// Section 5: faults at the token endpoint while a credential is due for refresh, injected by a proxy in front of the
// real authorization server. A caller keeps making MCP requests throughout; the outcome says what became of the
// credential, whether anyone was asked to sign in, and how long calls took to recover once the fault ended.
import { setTimeout as delay } from 'node:timers/promises';
import { isKeyringError } from '../../src/core/errors';
import type { Keyring } from '../../src/core/keyring';
import { mountAuthorizationServer } from '../../test/fixtures/authorizationServer';
import { listenOnLoopback } from '../../test/fixtures/listenOnLoopback';
import { startMcpServer } from '../../test/fixtures/mcpServer';
import { startWorkersOAuthServer } from '../../test/fixtures/workersOAuthServer';
import { createTestBrowser } from '../../test/fixtures/testBrowser';
import { createKeyringOver } from '../../test/integration/testKeyring';
import { MemoryStore } from '../../test/unit/core/fakes';
import { startFaultProxy, type Fault } from '../lib/faultProxy';

const TOKEN_LIFETIME_SECONDS = 6;
const CALL_EVERY_MS = 250;
/** How long calls may take to recover after the fault ends before the scenario gives up on them. */
const RECOVERY_LIMIT_MS = 20_000;
/** Each request's limit in the scenarios: a sign-in on a machine loaded with other work can exceed the usual 10 s. */
const REQUEST_TIMEOUT_MS = 30_000;

/** How long each fault lasts; `once` faults meet only the first refresh (after it the outcome is settled). */
const FAULT_PLAN: Record<Fault, number | 'once'> = {
  connectionRefused: 10_000,
  resetMidResponse: 'once',
  status503: 30_000,
  stall5s: 12_000,
  truncatedJson: 'once',
  temporarilyUnavailable: 10_000,
  invalidGrant: 'once',
};

/** Which authorization server the fault met: oidc-provider revokes a grant whose rotated refresh token is reused. */
export type FaultServer = 'oidc-provider' | 'workers-oauth-provider';

/**
 * The faults that lose a refresh's answer after the server has rotated the refresh token, run again against
 * @cloudflare/workers-oauth-provider, which keeps the previous refresh token valid until the new one is used.
 */
const LOST_ANSWER_FAULTS = ['resetMidResponse', 'truncatedJson'] as const satisfies readonly Fault[];
/** The provider's shortest access token lifetime (the fixture's); the scenario moves both clocks past it. */
const WORKERS_TOKEN_LIFETIME_SECONDS = 60;

export interface FaultOutcome {
  readonly fault: Fault;
  readonly server: FaultServer;
  readonly faultMs: number;
  readonly calls: number;
  readonly failedCalls: number;
  readonly slowestCallMs: number;
  /** The stored credential afterwards: still there, and whether it is marked as needing sign-in. */
  readonly credentialKept: boolean;
  readonly markedNeedsSignIn: boolean;
  readonly browserOpened: number;
  /** Times the engine told its caller that a sign-in is needed (what an editor would turn into a notification). */
  readonly signInRequested: number;
  /** From the end of the fault to the first call that worked after the last failure; 0 when no call failed; undefined when calls never recovered. */
  readonly recoveryMs: number | undefined;
  readonly errorCodes: readonly string[];
}

interface Call {
  readonly at: number;
  readonly ok: boolean;
  readonly ms: number;
  readonly code?: string;
}

async function callOnce(keyring: Keyring, mcpUrl: string, onSignInNeeded: () => void): Promise<Omit<Call, 'at' | 'ms'>> {
  try {
    const { accessToken } = await keyring.getAccessToken(mcpUrl, { interactive: false, onSignInNeeded });
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return response.ok ? { ok: true } : { ok: false, code: `http_${response.status}` };
  } catch (error) {
    return { ok: false, code: isKeyringError(error) ? error.code : 'other' };
  }
}

/** A caller making an MCP request every CALL_EVERY_MS, never interactively, until stopped. */
function startCaller(keyring: Keyring, mcpUrl: string) {
  const calls: Call[] = [];
  let signInRequested = 0;
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      const at = performance.now();
      const result = await callOnce(keyring, mcpUrl, () => signInRequested++);
      calls.push({ ...result, at, ms: performance.now() - at });
      await delay(CALL_EVERY_MS);
    }
  })();
  return {
    calls,
    get signInRequested() {
      return signInRequested;
    },
    stop: () => {
      isStopped = true;
      return loop;
    },
  };
}

async function runScenario(fault: Fault): Promise<FaultOutcome> {
  const upstream = await listenOnLoopback();
  const proxy = await startFaultProxy(upstream.port, '/token');
  const mounted = await mountAuthorizationServer(proxy.origin, { accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS, refreshTokenRotation: true });
  upstream.serve(mounted.handle);
  const mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: mounted.server });
  const browser = createTestBrowser();
  let browserOpened = 0;
  const keyring = createKeyringOver(new MemoryStore(), { ...browser, open: (url) => (browserOpened++, browser.open(url)) }, fetch, { timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    await keyring.signIn(mcp.url);
    browserOpened = 0;
    const signedInAt = performance.now();
    const caller = startCaller(keyring, mcp.url);

    // The fault starts when refresh becomes due (half the lifetime, for tokens this short).
    await delay(Math.max(0, signedInAt + (TOKEN_LIFETIME_SECONDS * 1000) / 2 - performance.now()));
    const faultStart = performance.now();
    await proxy.setFault(fault);
    const plan = FAULT_PLAN[fault];
    if (plan === 'once') {
      while (proxy.faultedRequests === 0 && performance.now() - faultStart < 15_000) await delay(20);
    } else {
      await delay(plan);
    }
    await proxy.setFault(undefined);
    const faultEnd = performance.now();
    // A fault whose damage shows only when the current token runs out (a lost rotation) is watched past expiry.
    const watchUntil = Math.max(faultEnd, signedInAt + TOKEN_LIFETIME_SECONDS * 1000 + 3_000);
    while (performance.now() < watchUntil || (performance.now() - faultEnd < RECOVERY_LIMIT_MS && caller.calls.at(-1)?.ok !== true)) await delay(50);
    await caller.stop();

    return outcome({ fault, server: 'oidc-provider', calls: caller.calls, faultStart, faultEnd, browserOpened, signInRequested: caller.signInRequested, status: (await keyring.status(mcp.url))[0] });
  } finally {
    keyring.dispose();
    await mcp.close();
    await proxy.close();
    await upstream.close();
  }
}

interface ScenarioRecord {
  readonly fault: Fault;
  readonly server: FaultServer;
  readonly calls: readonly Call[];
  readonly faultStart: number;
  readonly faultEnd: number;
  readonly browserOpened: number;
  readonly signInRequested: number;
  readonly status: { readonly needsSignIn: boolean } | undefined;
}

function outcome({ fault, server, calls, faultStart, faultEnd, browserOpened, signInRequested, status }: ScenarioRecord): FaultOutcome {
  const failedAfterStart = calls.filter((call) => call.at >= faultStart && !call.ok);
  const lastFailure = failedAfterStart.at(-1);
  const recovered = lastFailure && calls.find((call) => call.at > lastFailure.at && call.ok);
  return {
    fault,
    server,
    faultMs: faultEnd - faultStart,
    calls: calls.length,
    failedCalls: calls.filter((call) => !call.ok).length,
    slowestCallMs: Math.max(...calls.map((call) => call.ms)),
    credentialKept: status !== undefined,
    markedNeedsSignIn: status?.needsSignIn ?? false,
    browserOpened,
    signInRequested,
    recoveryMs: failedAfterStart.length === 0 ? 0 : recovered && Math.max(0, recovered.at + recovered.ms - faultEnd),
    errorCodes: [...new Set(failedAfterStart.map((call) => call.code ?? 'unknown'))],
  };
}

/**
 * A lost refresh answer at workers-oauth-provider (in workerd, behind the fault proxy, which the Worker takes for its
 * origin from the Host header). Its tokens live 60 s at least, so instead of waiting, the Worker's clock and the
 * engine's move forward together past expiry while calls go on; the refresh that follows meets the fault once.
 */
async function runWorkersScenario(fault: (typeof LOST_ANSWER_FAULTS)[number]): Promise<FaultOutcome> {
  const worker = await startWorkersOAuthServer();
  const proxy = await startFaultProxy(Number(new URL(worker.origin).port), '/token');
  const mcpUrl = `${proxy.origin}/mcp`;
  let skewMs = 0;
  const browser = createTestBrowser();
  let browserOpened = 0;
  const keyring = createKeyringOver(new MemoryStore(), { ...browser, open: (url) => (browserOpened++, browser.open(url)) }, fetch, { clock: { now: () => Date.now() + skewMs }, timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    await keyring.signIn(mcpUrl);
    browserOpened = 0;
    const caller = startCaller(keyring, mcpUrl);
    await delay(1_000);
    const faultStart = performance.now();
    await proxy.setFault(fault);
    await worker.advanceClock(WORKERS_TOKEN_LIFETIME_SECONDS + 1);
    skewMs += (WORKERS_TOKEN_LIFETIME_SECONDS + 1) * 1000;
    while (proxy.faultedRequests === 0 && performance.now() - faultStart < 15_000) await delay(20);
    await proxy.setFault(undefined);
    const faultEnd = performance.now();
    while (performance.now() - faultEnd < 3_000 || (performance.now() - faultEnd < RECOVERY_LIMIT_MS && caller.calls.at(-1)?.ok !== true)) await delay(50);
    await caller.stop();
    return outcome({ fault, server: 'workers-oauth-provider', calls: caller.calls, faultStart, faultEnd, browserOpened, signInRequested: caller.signInRequested, status: (await keyring.status(mcpUrl))[0] });
  } finally {
    keyring.dispose();
    await proxy.close();
    await worker.close();
  }
}

/** All faults at once, each against its own servers: the longest (30 s of 503) sets the pace. */
export async function runFaults(): Promise<FaultOutcome[]> {
  return Promise.all([
    ...(Object.keys(FAULT_PLAN) as Fault[]).map((fault) => named(runScenario(fault), fault, 'oidc-provider')),
    ...LOST_ANSWER_FAULTS.map((fault) => named(runWorkersScenario(fault), fault, 'workers-oauth-provider')),
  ]);
}

/** A scenario that could not run says which one it was, and why (fetch's own message hides the cause). */
function named(scenario: Promise<FaultOutcome>, fault: Fault, server: FaultServer): Promise<FaultOutcome> {
  return scenario.catch((error: unknown) => {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    throw new Error(`${fault} against ${server}: ${error instanceof Error ? error.message : String(error)}${cause}`, { cause: error });
  });
}
