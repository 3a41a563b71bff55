// The person's proxy in the real editor: the runner sets `http.proxy` to a forward proxy on loopback, and the engine's
// requests (the MCP server's probe and the discovery it leads to) go through it. The server is named by an address
// only the proxy reaches (`onlyThroughProxy`, which the proxy routes to the recorder on 127.0.0.1; the recorder
// listens on 127.0.0.1 alone), so a request that went around the proxy could not succeed.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { extensionId, fixtureConfig, type KeyringApi } from './helpers';
import { startRecorder, type Received } from './recordingServer';

suiteOutsideDesktop('Through the person\'s proxy (http.proxy)', runnerCannotPlayThePerson, () => {
  const config = fixtureConfig();
  const received: Received[] = [];
  let recorder: { server: Server; origin: string };
  let api: KeyringApi;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    recorder = await startRecorder(received);
  });

  suiteTeardown(async () => {
    await new Promise((resolve) => recorder?.server.close(resolve));
  });

  test('probes the MCP server and discovers its authorization server through the proxy', async function () {
    this.timeout(30_000);
    assert.ok(vscode.workspace.getConfiguration('http').get<string>('proxy'), 'the runner set no http.proxy');
    const origin = recorder.origin.replace('127.0.0.1', config.onlyThroughProxy);
    const failure = await api.signIn(`${origin}/mcp`).then(() => undefined, (error: unknown) => error);
    // Discovery got through; the recorder offers no registration, so the sign-in stops there, before any browser.
    assert.match(String(failure), /offers no client registration/);
    const discovery = ['/mcp', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server'];
    assert.deepEqual(received.map((request) => request.path).slice(0, discovery.length), discovery);
    // Every request named the host only the proxy reaches.
    const host = origin.slice('http://'.length);
    for (const request of received) assert.ok(request.text.includes(`"host":"${host}"`), `not for ${host}: ${request.text.slice(0, 200)}`);
  });
});
