// Client identity by client ID metadata document (draft-ietf-oauth-client-id-metadata-document), which the MCP
// authorization spec (2025-11-25) prefers to dynamic registration: the command line against oidc-provider resolving
// https client ids with a real fetch of the document from a host on loopback.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../fixtures/authorizationServer';
import { startClientMetadataDocumentHost, type ClientMetadataDocumentHost, type HostedDocument } from '../fixtures/clientMetadataDocumentHost';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';

const TOKEN_LIFETIME_SECONDS = 3;
/** With a 3 s lifetime refresh is due after half of it; wait a little past that. */
const UNTIL_REFRESH_DUE_MS = 1_700;
/** Long enough for a sign-in on loopback, short enough for a test that waits for a browser that never comes back. */
const SHORT_TIMEOUT_SECONDS = '3';

/** Our document as media/client-metadata.json has it: a native public client using any loopback port. */
function nativeClient(clientId: string): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'MCP Keyring',
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  };
}

function accessTokenClientId(token: string): unknown {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { client_id?: unknown }).client_id;
}

async function statusOf(cli: CliHarness): Promise<{ clientId: string; clientOrigin: string }> {
  return (JSON.parse((await cli.run('status', '--json')).stdout) as { clientId: string; clientOrigin: string }[])[0]!;
}

interface Servers {
  readonly host: ClientMetadataDocumentHost;
  readonly as: AuthorizationServer;
  readonly mcp: McpServer;
  close(): Promise<void>;
}

/** An MCP server whose authorization server resolves client ids from a document host; registration stays on too. */
async function startServers(options: Omit<AuthorizationServerOptions, 'clientMetadataDocuments'> = {}): Promise<Servers> {
  const host = await startClientMetadataDocumentHost();
  const as = await startAuthorizationServer({ ...options, clientMetadataDocuments: host });
  const mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  return {
    host,
    as,
    mcp,
    async close() {
      await mcp.close();
      await as.close();
      await host.close();
    },
  };
}

describe('signing in with a client ID metadata document at an authorization server that supports them', function () {
  let servers: Servers;
  let host: ClientMetadataDocumentHost;
  let as: AuthorizationServer;
  let mcp: McpServer;
  let clientId: string;
  let cli: CliHarness;

  before(async function () {
    servers = await startServers({ accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS });
    ({ host, as, mcp } = servers);
    clientId = host.publish('/client.json', nativeClient);
  });
  after(async function () {
    await servers.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness();
  });
  afterEach(async function () {
    await cli.dispose();
  });

  it('uses the document URL as the client id without registering, after the authorization server fetched it, and calls a tool', async function () {
    const registrations = as.requestCount('registration');
    const login = await cli.run('login', mcp.url, '--client-metadata-url', clientId);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(as.requestCount('registration'), registrations, 'no dynamic registration');
    assert.ok(host.fetchCount(clientId) >= 1, 'the authorization server fetched the document');
    const status = await statusOf(cli);
    assert.equal(status.clientId, clientId);
    assert.equal(status.clientOrigin, 'metadata-document');
    const token = (await cli.run('token', mcp.url)).stdout.trim();
    assert.equal(accessTokenClientId(token), clientId, 'the authorization server issued the token to the document URL');
    const call = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"hello from a metadata document"}');
    assert.equal(call.code, 0, call.stderr);
    assert.equal(call.stdout.trim(), 'hello from a metadata document');
  });

  it('switches to the document once one is configured, even with a registration from an earlier sign-in at hand', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    assert.equal((await statusOf(cli)).clientOrigin, 'dynamic-registration');
    const registrations = as.requestCount('registration');
    assert.equal((await cli.run('login', mcp.url, '--client-metadata-url', clientId)).code, 0);
    const status = await statusOf(cli);
    assert.equal(status.clientId, clientId);
    assert.equal(status.clientOrigin, 'metadata-document');
    assert.equal(as.requestCount('registration'), registrations);
  });

  it('refreshes a short-lived token as the same client, without a sign-in', async function () {
    assert.equal((await cli.run('login', mcp.url, '--client-metadata-url', clientId)).code, 0);
    const first = (await cli.run('token', mcp.url)).stdout.trim();
    const tokenRequests = as.requestCount('token');
    await delay(UNTIL_REFRESH_DUE_MS);
    const refreshed = await cli.run('token', mcp.url);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.notEqual(refreshed.stdout.trim(), first);
    assert.equal(as.requestCount('token'), tokenRequests + 1, 'one refresh request');
    assert.equal(accessTokenClientId(refreshed.stdout.trim()), clientId);
    assert.equal(cli.browserOpens, 1);
  });

  it('revokes the refresh token on logout, the authorization server knowing the client only from its document', async function () {
    assert.equal((await cli.run('login', mcp.url, '--client-metadata-url', clientId)).code, 0);
    const refreshToken = /"refreshToken\\?":\\?"([^"\\]+)/.exec(await cli.storeContents())?.[1];
    assert.ok(refreshToken, 'a refresh token was stored');
    const result = await cli.run('logout', mcp.url, '--json');
    assert.equal(result.code, 0, result.stderr);
    // oidc-provider cannot revoke JWT access tokens (unsupported_token_type); the refresh token is what matters.
    assert.deepEqual((JSON.parse(result.stdout) as { revoked: string[] }).revoked, ['refresh_token']);
    assert.equal((await as.introspect(refreshToken)).active, false);
  });

  it('reports in diagnose that the authorization server supports client ID metadata documents', async function () {
    const result = await cli.run('diagnose', mcp.url, '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { clientIdentity: string; discovery: { authorizationServer: { client_id_metadata_document_supported?: boolean } } };
    assert.equal(report.discovery.authorizationServer.client_id_metadata_document_supported, true);
    assert.match(report.clientIdentity, /client ID metadata documents are supported/);
    assert.match(report.clientIdentity, /dynamic client registration is available/);
  });
});

/**
 * The authorization server can only refuse on its own page and never sends the browser back: the command line waits
 * out its timeout, then names the document and the redirect URI to check, and keeps nothing.
 */
async function assertRefusedAtTheAuthorizationServer(as: AuthorizationServer, mcp: McpServer, clientId: string, shownError: string): Promise<void> {
  const cli = await createCliHarness();
  const registrations = as.requestCount('registration');
  const result = await cli.run('tools', mcp.url, '--client-metadata-url', clientId, '--timeout', SHORT_TIMEOUT_SECONDS);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.split('\n').at(-2), `mcp-keyring: timeout: no sign-in callback arrived within ${SHORT_TIMEOUT_SECONDS} s; if the authorization server showed an error, check that the client metadata document ${clientId} is reachable from it and lists the redirect URI http://127.0.0.1/callback (any port)`);
  assert.deepEqual(cli.browser.history.map((page) => [page.status, page.heading]), [[400, shownError]], 'the browser stopped at the authorization server\'s error page');
  assert.equal(cli.browser.lastFinalUrl, undefined, 'the browser was never sent to the redirect URI');
  assert.equal(as.requestCount('registration'), registrations, 'no registration behind the person\'s back');
  assert.equal(await cli.storeContents(), '');
  await cli.dispose();
}

describe('signing in with a client ID metadata document the authorization server cannot use', function () {
  let servers: Servers;

  before(async function () {
    servers = await startServers();
  });
  after(async function () {
    await servers.close();
  });

  const unusableDocuments: { title: string; path: string; document: (clientId: string) => HostedDocument; shownError: string }[] = [
    { title: 'lists only a web redirect URI', path: '/web.json', document: (clientId) => ({ ...nativeClient(clientId), redirect_uris: ['https://app.example/callback'] }), shownError: 'invalid_redirect_uri' },
    // oidc-provider lets the port of a loopback redirect URI vary only for native clients (RFC 8252 §7.3).
    { title: 'lists the loopback redirect URI but is not a native client', path: '/not-native.json', document: (clientId) => ({ ...nativeClient(clientId), application_type: 'web' }), shownError: 'invalid_redirect_uri' },
    { title: 'is not there (404)', path: '/gone.json', document: () => 404, shownError: 'invalid_client' },
  ];
  for (const { title, path, document, shownError } of unusableDocuments) {
    it(`fails clearly and stores nothing when the document ${title}`, async function () {
      const clientId = servers.host.publish(path, document);
      await assertRefusedAtTheAuthorizationServer(servers.as, servers.mcp, clientId, shownError);
      assert.ok(servers.host.fetchCount(clientId) >= 1, 'the authorization server fetched the document');
    });
  }

  it('fails clearly and stores nothing when the document host is unreachable', async function () {
    const unreachable = await startClientMetadataDocumentHost();
    const clientId = unreachable.publish('/client.json', nativeClient);
    await unreachable.close();
    const otherAs = await startAuthorizationServer({ clientMetadataDocuments: unreachable });
    const otherMcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: otherAs });
    try {
      await assertRefusedAtTheAuthorizationServer(otherAs, otherMcp, clientId, 'invalid_client');
    } finally {
      await otherMcp.close();
      await otherAs.close();
    }
  });
});

describe('a client metadata URL configured for an authorization server without client ID metadata documents', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;

  before(async function () {
    as = await startAuthorizationServer();
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });

  it('falls back to dynamic registration, as the MCP authorization spec orders', async function () {
    // Never fetched: this authorization server does not resolve client ids from documents.
    const clientId = 'https://mcp-keyring-client.example/client.json';
    const cli = await createCliHarness();
    const registrations = as.requestCount('registration');
    const result = await cli.run('tools', mcp.url, '--client-metadata-url', clientId);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(as.requestCount('registration'), registrations + 1);
    const status = await statusOf(cli);
    assert.equal(status.clientOrigin, 'dynamic-registration');
    assert.notEqual(status.clientId, clientId);
    await cli.dispose();
  });
});
