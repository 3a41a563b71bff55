// Failures other MCP clients shipped in 2026 (issue #17, section 3) that no other test here shows, each against a real
// authorization server (oidc-provider). Where another test already covers an item, docs/design.md ("Failures other
// clients shipped") names it.
import assert from 'node:assert/strict';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';
import { statusOf } from './storedCredentials';

function requestedScopes(cli: CliHarness): string[] {
  return (new URL(cli.openedUrls.at(-1)!).searchParams.get('scope') ?? '').split(' ');
}

describe('failures other clients shipped in 2026', function () {
  let cli: CliHarness;

  beforeEach(async function () {
    cli = await createCliHarness();
  });
  afterEach(async function () {
    await cli.dispose();
  });

  describe('a configured client id at an authorization server that also offers registration', function () {
    let as: AuthorizationServer;
    let mcp: McpServer;

    before(async function () {
      as = await startAuthorizationServer({
        clients: [{ client_id: 'configured-app', token_endpoint_auth_method: 'none', application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code', 'refresh_token'] }],
      });
      mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
    });
    after(async function () {
      await mcp.close();
      await as.close();
    });

    it('signs in as the configured client, registering nothing, even with a registration from an earlier sign-in at hand', async function () {
      assert.equal((await cli.run('login', mcp.url)).code, 0);
      assert.equal((await statusOf(cli)).clientOrigin, 'dynamic-registration');
      const registrations = as.requestCount('registration');
      const result = await cli.run('tools', mcp.url, '--client-id', 'configured-app');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(as.requestCount('registration'), registrations);
      assert.equal(new URL(cli.openedUrls.at(-1)!).searchParams.get('client_id'), 'configured-app');
      const status = await statusOf(cli);
      assert.equal(status.clientId, 'configured-app');
      assert.equal(status.clientOrigin, 'pre-registered');
    });
  });

  describe('offline_access', function () {
    const servers: { as: AuthorizationServer; mcp: McpServer }[] = [];
    const start = async (scopes?: string[]) => {
      const as = await startAuthorizationServer({ scopes });
      const mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
      servers.push({ as, mcp });
      return mcp;
    };
    after(async function () {
      for (const { as, mcp } of servers) {
        await mcp.close();
        await as.close();
      }
    });

    it('is not requested where the authorization server does not advertise it, and the sign-in still gets a refresh token', async function () {
      const mcp = await start(['openid', 'mcp:read', 'mcp:write', 'mcp:admin']);
      const result = await cli.run('tools', mcp.url);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(!requestedScopes(cli).includes('offline_access'), requestedScopes(cli).join(' '));
      assert.equal(new URL(cli.openedUrls.at(-1)!).searchParams.get('prompt'), null);
      assert.equal((await statusOf(cli)).hasRefreshToken, true);
    });

    it('is requested, with the consent OpenID asks for, where the authorization server advertises it', async function () {
      const mcp = await start();
      const result = await cli.run('tools', mcp.url);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(requestedScopes(cli).includes('offline_access'), requestedScopes(cli).join(' '));
      assert.equal(new URL(cli.openedUrls.at(-1)!).searchParams.get('prompt'), 'consent');
    });
  });
});
