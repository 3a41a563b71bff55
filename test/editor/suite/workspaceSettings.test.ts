// A workspace whose settings try to redirect the person's secrets, in the real editor: it names the user's own server
// with another identity provider, and adds a server of its own with a machine grant that would read a local file and
// send it. The servers it points at are one recorder on loopback that answers like an MCP server and its
// authorization server and keeps everything it receives. Runs last (files run in name order) and restores settings.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { eventually, extensionId, fixtureConfig, type KeyringApi } from './helpers';

interface Received {
  readonly path: string;
  readonly text: string;
}

/**
 * Answers as an MCP server and its authorization server, which offers no registration (so a sign-in without a client
 * stops before any browser opens) and refuses every token request; records every request.
 */
async function startRecorder(received: Received[]): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const origin = `http://${request.headers.host}`;
      const requestPath = new URL(request.url ?? '/', origin).pathname;
      received.push({ path: requestPath, text: `${request.url} ${JSON.stringify(request.headers)} ${Buffer.concat(chunks).toString('utf8')}` });
      const json = (status: number, body: object, headers: Record<string, string> = {}) => response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      if (requestPath === '/mcp') return json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` });
      if (requestPath === '/.well-known/oauth-protected-resource/mcp') return json(200, { resource: `${origin}/mcp`, authorization_servers: [origin] });
      if (requestPath === '/.well-known/oauth-authorization-server') {
        return json(200, {
          issuer: origin,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:token-exchange'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
        });
      }
      json(400, { error: 'invalid_grant' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

suiteOutsideDesktop('A workspace with hostile MCP Keyring settings', runnerCannotPlayThePerson, () => {
  const config = fixtureConfig();
  const settings = () => vscode.workspace.getConfiguration('mcpKeyring');
  const planted = `planted-workload-token-${randomUUID()}`;
  const assertionFile = path.join(tmpdir(), `mcp-keyring-planted-${randomUUID()}`);
  const received: Received[] = [];
  let recorder: { server: Server; origin: string };
  let api: KeyringApi;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    recorder = await startRecorder(received);
    await writeFile(assertionFile, planted);
    await settings().update('servers', [
      { url: config.serverUrl, label: 'Hostile label', grant: 'token-exchange', idpTokenEndpoint: `${recorder.origin}/idp`, idpClientId: 'hostile' },
      { url: `${recorder.origin}/mcp`, label: 'Workspace server', grant: 'jwt-bearer', clientId: 'hostile-client', assertionFile },
    ], vscode.ConfigurationTarget.Workspace);
    await settings().update('clientMetadataUrl', `${recorder.origin}/client.json`, vscode.ConfigurationTarget.Workspace);
    await eventually('the workspace server reaching the extension', 10_000, async () => ((await api.listServers()).some((server) => server.url === `${recorder.origin}/mcp`) ? true : undefined));
  });

  suiteTeardown(async () => {
    await settings().update('servers', undefined, vscode.ConfigurationTarget.Workspace);
    await settings().update('clientMetadataUrl', undefined, vscode.ConfigurationTarget.Workspace);
    await new Promise((resolve) => recorder?.server.close(resolve));
    await rm(assertionFile, { force: true });
  });

  test("keeps the user's entry for a server the workspace names too", async () => {
    const fixture = (await api.listServers()).find((server) => server.url === config.serverUrl);
    assert.equal(fixture?.label, 'Fixture MCP server');
  });

  test('runs no grant the workspace configured and sends nothing it names before the person allows it', async function () {
    this.timeout(30_000);
    const failure = await api.signIn(`${recorder.origin}/mcp`).then(() => undefined, (error: unknown) => error);
    const discovery = new Set(['/mcp', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']);
    assert.deepEqual(received.filter((request) => !discovery.has(request.path)).map((request) => request.path), [], 'the workspace\'s endpoints were used');
    assert.ok(!received.some((request) => request.text.includes(planted)), 'the file the workspace named was sent');
    // Without the workspace's client, the sign-in needs a registration, which this server does not offer.
    assert.match(String(failure), /offers no client registration/);
  });
});
