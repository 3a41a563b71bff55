// Smoke test of the integration fixtures on their own: the authorization server, the test browser and the MCP servers
// work together the way the engine will use them. Uses oauth4webapi directly, not the engine.
import { strict as assert } from 'node:assert';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { listenOnLoopback } from '../fixtures/listenOnLoopback';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createTestBrowser, type TestBrowserOptions } from '../fixtures/testBrowser';

const insecure = { [oauth.allowInsecureRequests]: true };

interface SignIn {
  callback: URL;
  tokens?: oauth.TokenEndpointResponse;
}

/** Registers a native client, sends the test browser through the authorization URL, and redeems the code. */
async function signIn(authorizationServer: Omit<AuthorizationServer, 'close'>, resource: string, scope: string, browserOptions: TestBrowserOptions = {}): Promise<SignIn> {
  const metadata = await oauth.processDiscoveryResponse(
    new URL(authorizationServer.issuer),
    await fetch(authorizationServer.metadataUrl!),
  );
  const client = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(metadata, {
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  }, insecure));

  const listener = await listenOnLoopback();
  try {
    let callback: URL | undefined;
    listener.serve((request, response) => {
      callback = new URL(request.url!, listener.origin);
      response.end('signed in');
    });
    const redirectUri = `${listener.origin}/callback`;
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(metadata.authorization_endpoint!);
    authorizationUrl.search = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      resource,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();

    await createTestBrowser(browserOptions).open(authorizationUrl.href);

    assert.ok(callback, 'the browser reached the redirect URI');
    if (callback.searchParams.has('error')) {
      return { callback };
    }
    const parameters = oauth.validateAuthResponse(metadata, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(metadata, client, oauth.None(), parameters, redirectUri, verifier, {
      ...insecure,
      additionalParameters: { resource },
    });
    return { callback, tokens: await oauth.processAuthorizationCodeResponse(metadata, client, response) };
  } finally {
    await listener.close();
  }
}

async function connect(mcpServer: McpServer, accessToken: string): Promise<Client> {
  const client = new Client({ name: 'fixtures-smoke-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpServer.url), {
    requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
  }));
  return client;
}

function initializeRequest() {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
    }),
  };
}

describe('integration fixtures', () => {
  describe('an authorization server with a path-metadata MCP server', () => {
    let authorizationServer: AuthorizationServer;
    let mcpServer: McpServer;

    before(async () => {
      authorizationServer = await startAuthorizationServer();
      mcpServer = await startMcpServer({ authorizationServer });
    });

    after(async () => {
      await mcpServer?.close();
      await authorizationServer?.close();
    });

    it('signs a dynamically registered native client in and issues a JWT for the MCP server that lists tools', async () => {
      const { tokens } = await signIn(authorizationServer, mcpServer.url, 'mcp:read');

      assert.ok(tokens?.refresh_token, 'a refresh token without offline_access');
      const claims = decodeJwt(tokens.access_token);
      assert.equal(claims.aud, mcpServer.url);
      assert.equal(claims.scope, 'mcp:read');
      const client = await connect(mcpServer, tokens.access_token);
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name).sort(), ['admin_action', 'echo', 'whoami']);
        assert.ok(mcpServer.seenTokens.includes(tokens.access_token));
      } finally {
        await client.close();
      }
    });

    it('answers a request without a token with 401 and a challenge naming its metadata and scope', async () => {
      const response = await fetch(mcpServer.url, initializeRequest());

      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), `Bearer scope="mcp:read", resource_metadata="${mcpServer.resourceMetadataUrl}"`);
      const metadata = await oauth.processResourceDiscoveryResponse(
        new URL(mcpServer.url),
        await oauth.resourceDiscoveryRequest(new URL(mcpServer.url), insecure),
      );
      assert.deepEqual(metadata.authorization_servers, [authorizationServer.issuer]);
    });

    it('refuses admin_action to a token without mcp:admin with 403 insufficient_scope', async () => {
      const { tokens } = await signIn(authorizationServer, mcpServer.url, 'mcp:read');
      const client = await connect(mcpServer, tokens!.access_token);
      try {
        const forbiddenBefore = mcpServer.forbiddenCount;
        await assert.rejects(client.callTool({ name: 'admin_action', arguments: {} }));
        assert.equal(mcpServer.forbiddenCount, forbiddenBefore + 1);
      } finally {
        await client.close();
      }
    });

    it('ends a denied consent at the redirect URI with error=access_denied and the issuer', async () => {
      const { callback } = await signIn(authorizationServer, mcpServer.url, 'mcp:read', { consent: 'deny' });

      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('iss'), authorizationServer.issuer);
    });

    it('counts token requests and answers injected faults instead', async () => {
      const tokenRequestsBefore = authorizationServer.requestCount('token');
      authorizationServer.failNext('token', 1, 503);

      const response = await fetch(authorizationServer.endpoints.token, { method: 'POST' });

      assert.equal(response.status, 503);
      assert.equal(authorizationServer.requestCount('token'), tokenRequestsBefore + 1);
    });
  });

  describe('a root-metadata MCP server with an authorization server under a path', () => {
    let authorizationServer: AuthorizationServer;
    let mcpServer: McpServer;

    before(async () => {
      authorizationServer = await startAuthorizationServer({ issuerPath: '/tenant/a' });
      mcpServer = await startMcpServer({ shape: 'root-metadata', authorizationServer });
    });

    after(async () => {
      await mcpServer?.close();
      await authorizationServer?.close();
    });

    it('serves its metadata only at the root well-known URL and leaves resource_metadata out of the challenge', async () => {
      const root = await fetch(`${mcpServer.origin}/.well-known/oauth-protected-resource`);
      const pathAware = await fetch(`${mcpServer.origin}/.well-known/oauth-protected-resource/mcp`);
      const unauthorized = await fetch(mcpServer.url, initializeRequest());

      assert.deepEqual(await root.json(), {
        resource: mcpServer.url,
        authorization_servers: [authorizationServer.issuer],
        scopes_supported: ['mcp:read', 'mcp:write', 'mcp:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'fixture MCP server (root-metadata, v1)',
      });
      assert.equal(pathAware.status, 404);
      assert.equal(unauthorized.headers.get('www-authenticate'), 'Bearer scope="mcp:read"');
    });

    it('has an issuer with a path whose RFC 8414 metadata is found by path insertion', async () => {
      const metadata = await oauth.processDiscoveryResponse(
        new URL(authorizationServer.issuer),
        await oauth.discoveryRequest(new URL(authorizationServer.issuer), { ...insecure, algorithm: 'oauth2' }),
      );

      assert.equal(metadata.issuer, `${new URL(authorizationServer.issuer).origin}/tenant/a`);
      assert.equal(authorizationServer.requestLog.at(-1)?.path, '/.well-known/oauth-authorization-server/tenant/a');
    });
  });

  describe('a legacy MCP server that is its own authorization server', () => {
    let mcpServer: McpServer;

    before(async () => {
      mcpServer = await startMcpServer({ shape: 'legacy-own-as' });
    });

    after(async () => {
      await mcpServer?.close();
    });

    it('has no protected resource metadata and challenges with a plain Bearer', async () => {
      const pathAware = await fetch(`${mcpServer.origin}/.well-known/oauth-protected-resource/mcp`);
      const root = await fetch(`${mcpServer.origin}/.well-known/oauth-protected-resource`);
      const unauthorized = await fetch(mcpServer.url, initializeRequest());

      assert.equal(pathAware.status, 404);
      assert.equal(root.status, 404);
      assert.equal(unauthorized.status, 401);
      assert.equal(unauthorized.headers.get('www-authenticate'), 'Bearer');
    });

    it('serves authorization server metadata for its own origin and accepts the tokens it issues', async () => {
      const metadata = await (await fetch(`${mcpServer.origin}/.well-known/oauth-authorization-server`)).json() as { issuer: string };
      const { tokens } = await signIn(mcpServer.authorizationServer, mcpServer.url, 'mcp:read');
      const client = await connect(mcpServer, tokens!.access_token);
      try {
        const { tools } = await client.listTools();

        assert.equal(metadata.issuer, mcpServer.origin);
        assert.ok(tools.length > 0);
      } finally {
        await client.close();
      }
    });
  });

  describe('protocol revisions', () => {
    let authorizationServer: AuthorizationServer;

    before(async () => {
      authorizationServer = await startAuthorizationServer();
    });

    after(async () => {
      await authorizationServer?.close();
    });

    for (const [sdk, revision] of [['v1', '2025-11-25'], ['v2', '2026-07-28']] as const) {
      it(`an sdk ${sdk} server negotiates ${revision} and answers tools/list and tools/call with the caller's identity`, async () => {
        const mcpServer = await startMcpServer({ sdk, authorizationServer });
        try {
          const { tokens } = await signIn(authorizationServer, mcpServer.url, 'mcp:read mcp:write');
          const client = await connect(mcpServer, tokens!.access_token);
          try {
            const { tools } = await client.listTools();
            const whoami = await client.callTool({ name: 'whoami', arguments: {} });

            assert.equal(client.getNegotiatedProtocolVersion(), revision);
            assert.ok(tools.some((tool) => tool.name === 'echo'));
            assert.deepEqual(whoami.content, [{ type: 'text', text: JSON.stringify({ sub: 'alice', scope: 'mcp:read mcp:write' }) }]);
          } finally {
            await client.close();
          }
        } finally {
          await mcpServer.close();
        }
      });
    }
  });
});
