// What the command line keeps in its store, read and dated back by tests that need a token to have expired or want
// to hold the stored tokens against the server's answers.
import assert from 'node:assert/strict';
import { FileStore } from '../../src/node/fileStore';
import type { CliHarness } from './cliHarness';

export interface StoredCredential {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  obtainedAt: number;
}

/** The one credential in the harness's store. */
export async function storedCredential(cli: CliHarness): Promise<StoredCredential> {
  const store = await FileStore.open(cli.storeDirectory);
  const [key] = await store.keys('credential/');
  return JSON.parse((await store.get(key!))!) as StoredCredential;
}

/** Dates the stored credential back by `seconds`, as if this process had slept through them. */
export async function ageStoredCredential(cli: CliHarness, seconds: number): Promise<void> {
  const store = await FileStore.open(cli.storeDirectory);
  const [key] = await store.keys('credential/');
  const credential = JSON.parse((await store.get(key!))!) as StoredCredential;
  const elapsedMs = seconds * 1000;
  await store.set(key!, JSON.stringify({ ...credential, obtainedAt: credential.obtainedAt - elapsedMs, expiresAt: credential.expiresAt! - elapsedMs }));
}

/** The first entry of `status --json`. */
export async function statusOf(cli: CliHarness): Promise<Record<string, unknown>> {
  const status = await cli.run('status', '--json');
  assert.equal(status.code, 0, status.stderr);
  return (JSON.parse(status.stdout) as Record<string, unknown>[])[0]!;
}

/** A `tools/list` sent straight to an MCP endpoint with `accessToken`, to see whether the server still takes it. */
export function mcpAnswerTo(mcpUrl: string, accessToken: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '1' } } }),
    signal: AbortSignal.timeout(5_000),
  });
}
