// Section 2: the cost of asking for a token that is cached and valid — the hot path of every MCP request — for the
// engine alone and through the extension's authentication provider over its SecretStorage-backed store.
import type { Keyring } from '../../src/core/keyring';
import { silentLogger } from '../../src/core/ports';
import { KeyringAuthenticationProvider } from '../../src/vscode/authenticationProvider';
import { RESOURCE_SCOPE_PREFIX } from '../../src/vscode/ids';
import type { ServerRegistry } from '../../src/vscode/serverRegistry';
import type { SignInService } from '../../src/vscode/signInService';
import { SecretStorageStore } from '../../src/vscode/secretStorageStore';
import { createTestBrowser } from '../../test/fixtures/testBrowser';
import { createKeyringOver } from '../../test/integration/testKeyring';
import { MemoryStore } from '../../test/unit/core/fakes';
import { SecretBackend } from '../../test/unit/vscode/fakes';
import { startBenchServers } from '../lib/benchServers';
import { percentile } from '../lib/stats';

export const LATENCY_CALLS = 100_000;

export interface LatencySummary {
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface TokenLatencyResult {
  readonly engine: LatencySummary;
  readonly provider: LatencySummary;
}

async function timeCalls(calls: number, call: () => Promise<unknown>): Promise<LatencySummary> {
  const samples = new Float64Array(calls);
  for (let index = 0; index < calls; index++) {
    const started = performance.now();
    await call();
    samples[index] = performance.now() - started;
  }
  const all = Array.from(samples);
  return { calls, p50Ms: percentile(all, 0.5), p99Ms: percentile(all, 0.99), maxMs: percentile(all, 1) };
}

function providerOver(keyring: Keyring): KeyringAuthenticationProvider {
  // getSessions never signs in, so the registry and sign-in service are not reached.
  return new KeyringAuthenticationProvider(keyring, {} as ServerRegistry, {} as SignInService, keyring.onDidChangeCredentials, silentLogger);
}

export async function runTokenLatency(calls = LATENCY_CALLS): Promise<TokenLatencyResult> {
  const servers = await startBenchServers();
  const secretStore = new SecretStorageStore({ secrets: new SecretBackend().window('bench'), logger: silentLogger });
  try {
    // Both sign in before either loop: a connection left idle through a loop may be closed under the next request.
    const engine = createKeyringOver(new MemoryStore(), createTestBrowser());
    await engine.signIn(servers.mcp.url);
    const extensionKeyring = createKeyringOver(secretStore, createTestBrowser());
    await extensionKeyring.signIn(servers.mcp.url);

    const engineResult = await timeCalls(calls, () => engine.getAccessToken(servers.mcp.url, { interactive: false }));
    const provider = providerOver(extensionKeyring);
    const scopes = [`${RESOURCE_SCOPE_PREFIX}${servers.mcp.url}`];
    const providerResult = await timeCalls(calls, async () => {
      const sessions = await provider.getSessions(scopes, {});
      if (sessions.length !== 1) throw new Error('the provider lost the session');
    });
    provider.dispose();
    return { engine: engineResult, provider: providerResult };
  } finally {
    secretStore.dispose();
    await servers.close();
  }
}
