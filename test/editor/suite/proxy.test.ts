// The person's proxy in the real editor: with `http.proxy` set, the engine's requests (the MCP server's probe and the
// discovery it leads to) go through it. The server is named by an address only the proxy reaches (127.0.0.2, which the
// editor does not treat as localhost, routed by the proxy to the recorder on 127.0.0.1), so a request that went
// around the proxy could not succeed.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { startForwardProxy, type ForwardProxy } from '../../fixtures/forwardProxy';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { extensionId, type KeyringApi } from './helpers';
import { startRecorder, type Received } from './recordingServer';
import type { Server } from 'node:http';

const ONLY_THROUGH_THE_PROXY = '127.0.0.2';

suiteOutsideDesktop('Through the person\'s proxy (http.proxy)', runnerCannotPlayThePerson, () => {
  const http = () => vscode.workspace.getConfiguration('http');
  const received: Received[] = [];
  let recorder: { server: Server; origin: string };
  let proxy: ForwardProxy;
  let api: KeyringApi;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    recorder = await startRecorder(received);
    proxy = await startForwardProxy({ [ONLY_THROUGH_THE_PROXY]: '127.0.0.1' });
    await http().update('proxy', proxy.url, vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await http().update('proxy', undefined, vscode.ConfigurationTarget.Global);
    await proxy?.close();
    await new Promise((resolve) => recorder?.server.close(resolve));
  });

  test('probes the MCP server and discovers its authorization server through the proxy', async function () {
    this.timeout(30_000);
    const origin = recorder.origin.replace('127.0.0.1', ONLY_THROUGH_THE_PROXY);
    const failure = await api.signIn(`${origin}/mcp`).then(() => undefined, (error: unknown) => error);
    // Discovery got through; the recorder offers no registration, so the sign-in stops there, before any browser.
    assert.match(String(failure), /offers no client registration/);
    const discovery = ['/mcp', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server'];
    // Plain http through a proxy is asked in absolute form: `POST http://127.0.0.2:<port>/mcp`.
    const viaProxy = proxy.asked.map((line) => line.split(' ')[1] ?? '').filter((target) => target.startsWith(`${origin}/`)).map((target) => new URL(target).pathname);
    // Every request the server received came through the proxy, and discovery went all the way.
    assert.deepEqual(viaProxy, received.map((request) => request.path));
    assert.deepEqual(viaProxy.slice(0, discovery.length), discovery);
  });
});
