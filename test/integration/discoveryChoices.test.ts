// Discovery choices that need more than one server: several authorization servers listed, and a challenge that
// starts pointing at other metadata.
import assert from 'node:assert/strict';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startHostileServer, type HostileServer } from '../fixtures/hostileServer';
import { createCliHarness } from './cliHarness';

describe('choosing among the authorization servers a resource lists', function () {
  let as: AuthorizationServer;
  let server: HostileServer;
  let mcpUrl: string;

  before(async function () {
    as = await startAuthorizationServer();
    const routes: Parameters<typeof startHostileServer>[0] = {};
    server = await startHostileServer(routes);
    mcpUrl = `${server.origin}/mcp`;
    const metadataUrl = `${server.origin}/.well-known/oauth-protected-resource/mcp`;
    routes['/mcp'] = { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${metadataUrl}", scope="mcp:read"` } };
    // The first listed authorization server publishes no metadata anywhere; the second is real.
    routes['/.well-known/oauth-protected-resource/mcp'] = { body: { resource: mcpUrl, authorization_servers: [`${server.origin}/retired`, as.issuer] } };
  });
  after(async function () {
    await server.close();
    await as.close();
  });

  it('uses the first one that answers with valid metadata, after trying the others in order', async function () {
    const cli = await createCliHarness();
    const result = await cli.run('login', mcpUrl, '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { issuer: string }).issuer, as.issuer);
    const retiredProbes = server.requestLog.filter((request) => request.url.includes('retired')).map((request) => request.url);
    assert.deepEqual(retiredProbes, [
      '/.well-known/oauth-authorization-server/retired',
      '/.well-known/openid-configuration/retired',
      '/retired/.well-known/openid-configuration',
    ]);
    await cli.dispose();
  });
});
