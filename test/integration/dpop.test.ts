// DPoP-bound tokens (RFC 9449) end to end: an MCP server that accepts only bound tokens with valid proofs and demands
// nonces, in front of oidc-provider with DPoP and nonces on. The sign-in binds its tokens because the server's
// challenge asks for DPoP; every MCP request carries a fresh proof; refresh keeps the key; a token without its proof
// is refused; the private key lives in the store and nowhere else.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';

const TOKEN_LIFETIME_SECONDS = 3;
const CLIENT_SECRET = `ci-secret-${randomUUID()}`;

function jwtClaims(token: string): { cnf?: { jkt?: string }; sub?: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { cnf?: { jkt?: string } };
}

function storedDpopKeys(storeText: string): { d: string }[] {
  return [...storeText.matchAll(/\\?"d\\?":\\?"([\w-]+)/g)].map((match) => ({ d: match[1]! }));
}

describe('DPoP-bound tokens', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    as = await startAuthorizationServer({
      accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS,
      dpopNonces: true,
      clients: [{ client_id: 'ci-dpop', client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
    });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as, dpop: { nonces: true } });
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness();
  });
  afterEach(async function () {
    const store = await cli.storeContents();
    for (const key of storedDpopKeys(store)) assert.ok(!cli.transcript.includes(key.d), 'the DPoP private key is never printed');
    await cli.dispose();
  });

  it('binds the sign-in to a key because the server challenges with DPoP, answering both servers\' nonce demands', async function () {
    const tokenRequests = as.requestCount('token');
    const refusals = mcp.dpopRefusals.length;
    const result = await cli.run('call', mcp.url, 'whoami');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(cli.browserOpens, 1);
    assert.match(result.stdout, /"sub"/);
    // One code exchange refused for want of a nonce, then repeated with it; the same at the MCP server.
    assert.equal(as.requestCount('token') - tokenRequests, 2);
    assert.deepEqual(mcp.dpopRefusals.slice(refusals), ['nonce required']);
    const token = JSON.parse((await cli.run('token', mcp.url, '--json')).stdout) as { accessToken: string; tokenType: string };
    assert.equal(token.tokenType, 'dpop');
    assert.ok(jwtClaims(token.accessToken).cnf?.jkt, 'the access token is bound to a key thumbprint');
    assert.equal(storedDpopKeys(await cli.storeContents()).length, 1, 'the private key is kept in the store beside the token');
    assert.match((await cli.run('status', mcp.url)).stdout, /token: +DPoP-bound/);
  });

  it('refuses the bound token without its proof, as Bearer or as DPoP', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const { accessToken } = JSON.parse((await cli.run('token', mcp.url, '--json')).stdout) as { accessToken: string };
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'thief', version: '0' } } });
    for (const authorization of [`Bearer ${accessToken}`, `DPoP ${accessToken}`]) {
      const response = await fetch(mcp.url, { method: 'POST', headers: { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: initialize });
      assert.equal(response.status, 401, `${authorization.split(' ')[0]} without a proof is refused`);
      await response.body?.cancel();
    }
  });

  it('refreshes with the same key once the token has expired', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const before = JSON.parse((await cli.run('token', mcp.url, '--json')).stdout) as { accessToken: string };
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    const call = await cli.run('call', mcp.url, 'whoami');
    assert.equal(call.code, 0, call.stderr);
    const after = JSON.parse((await cli.run('token', mcp.url, '--json')).stdout) as { accessToken: string };
    assert.notEqual(after.accessToken, before.accessToken);
    assert.equal(jwtClaims(after.accessToken).cnf?.jkt, jwtClaims(before.accessToken).cnf?.jkt);
    assert.equal(cli.browserOpens, 1, 'refreshed, not signed in again');
  });

  it('binds a client credentials token when asked with --dpop', async function () {
    await cli.dispose();
    cli = await createCliHarness({}, { MCP_KEYRING_CLIENT_SECRET: CLIENT_SECRET });
    const result = await cli.run('token', mcp.url, '--json', '--dpop', '--grant', 'client_credentials', '--client-id', 'ci-dpop');
    assert.equal(result.code, 0, result.stderr);
    const { accessToken, tokenType } = JSON.parse(result.stdout) as { accessToken: string; tokenType: string };
    assert.equal(tokenType, 'dpop');
    assert.ok(jwtClaims(accessToken).cnf?.jkt);
    const tools = await cli.run('tools', mcp.url, '--grant', 'client_credentials', '--client-id', 'ci-dpop');
    assert.equal(tools.code, 0, tools.stderr);
    assert.equal(cli.browserOpens, 0);
  });
});
