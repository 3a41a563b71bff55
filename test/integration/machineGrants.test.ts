// Grants without a browser, end to end from the command line and the engine's API against real servers on loopback:
// client credentials (secret, private_key_jwt with EC and RSA keys) at oidc-provider, the JWT bearer grant with a
// workload assertion, and enterprise-managed authorization (ID token → ID-JAG at an identity provider → JWT bearer).
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SignJWT, exportJWK, type JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startIdentityProvider, type IdentityProvider } from '../fixtures/identityProvider';
import { JWT_BEARER_GRANT } from '../fixtures/jwtBearerGrant';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';
import { createTestKeyring } from './testKeyring';
import { toMachineGrant } from '../../src/cli/grantOptions';
import type { MachineGrant } from '../../src/core/machineGrants';

const TOKEN_LIFETIME_SECONDS = 3;
const CLIENT_SECRET = `ci-secret-${randomUUID()}`;
const WORKLOAD_ISSUER = 'https://workload-identity.example';
/** RFC 6749 Appendix B: unreserved characters travel as they are, reserved ones form-encoded, in both halves. */
const BASIC_CLIENT_ID = 'ci-basic.client_~id:+/&';
const BASIC_CLIENT_SECRET = `${CLIENT_SECRET}-._~:+/%& !*`;

interface TestKey {
  readonly pem: string;
  readonly publicJwk: JWK;
  readonly privateKey: KeyObject;
}

async function testKey(kind: 'ec' | 'rsa'): Promise<TestKey> {
  const { privateKey, publicKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicJwk: { ...await exportJWK(publicKey), kid: randomUUID() }, privateKey };
}

function machineClient(clientId: string, grantTypes: string[], auth: { secret: string } | { jwks: JWK[] }): ClientMetadata {
  return {
    client_id: clientId,
    grant_types: grantTypes,
    response_types: [],
    redirect_uris: [],
    ...('secret' in auth ? { client_secret: auth.secret, token_endpoint_auth_method: 'client_secret_basic' as const } : { token_endpoint_auth_method: 'private_key_jwt' as const, jwks: { keys: auth.jwks } }),
  };
}

describe('machine grants', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let idp: IdentityProvider;
  let ecKey: TestKey;
  let rsaKey: TestKey;
  let workloadKey: TestKey;
  let cli: CliHarness;

  before(async function () {
    [ecKey, rsaKey, workloadKey] = await Promise.all([testKey('ec'), testKey('rsa'), testKey('ec')]);
    idp = await startIdentityProvider({ clientId: 'keyring-at-idp', clientSecret: 'idp-secret' });
    as = await startAuthorizationServer({
      accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS,
      clients: [
        machineClient('ci-secret', ['client_credentials'], { secret: CLIENT_SECRET }),
        machineClient(BASIC_CLIENT_ID, ['client_credentials'], { secret: BASIC_CLIENT_SECRET }),
        machineClient('ci-ec-key', ['client_credentials'], { jwks: [{ ...ecKey.publicJwk, alg: 'ES256' }] }),
        machineClient('ci-rsa-key', ['client_credentials'], { jwks: [{ ...rsaKey.publicJwk, alg: 'RS256' }] }),
        machineClient('workload', [JWT_BEARER_GRANT], { secret: CLIENT_SECRET }),
        machineClient('enterprise-app', [JWT_BEARER_GRANT], { secret: CLIENT_SECRET }),
      ],
      trustedAssertionIssuers: [
        { issuer: WORKLOAD_ISSUER, jwks: { keys: [{ ...workloadKey.publicJwk, alg: 'ES256' }] } },
        { issuer: idp.issuer, jwks: idp.jwks },
      ],
    });
    idp.trustAudience(as.issuer, 'enterprise-app');
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });
  after(async function () {
    await mcp.close();
    await as.close();
    await idp.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness({}, { MCP_KEYRING_CLIENT_SECRET: CLIENT_SECRET });
  });
  afterEach(async function () {
    assert.equal(cli.browserOpens, 0, 'no grant here ever needs a browser');
    assert.ok(!cli.transcript.includes(CLIENT_SECRET), 'the client secret is never printed');
    await cli.dispose();
  });

  const workloadAssertion = (overrides: { audience?: string; expiresIn?: string; jti?: string } = {}) => new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: workloadKey.publicJwk.kid })
    .setIssuer(WORKLOAD_ISSUER)
    .setSubject('ci-job-42')
    .setAudience(overrides.audience ?? as.issuer)
    .setIssuedAt()
    .setJti(overrides.jti ?? randomUUID())
    .setExpirationTime(overrides.expiresIn ?? '5m')
    .sign(workloadKey.privateKey);

  describe('client credentials', function () {
    it('with a client secret: lists the tools, with the resource named, and never opens a browser', async function () {
      const tokensSeen = mcp.seenTokens.length;
      const result = await cli.run('tools', mcp.url, '--grant', 'client_credentials', '--client-id', 'ci-secret');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /whoami/);
      assert.ok(mcp.seenTokens.length > tokensSeen, 'the server saw no token from this run');
    });

    it('with client_secret_basic and reserved and unreserved characters in the client id and secret, which oidc-provider decodes', async function () {
      const basic = await createCliHarness({}, { MCP_KEYRING_CLIENT_SECRET: BASIC_CLIENT_SECRET });
      try {
        const result = await basic.run('tools', mcp.url, '--grant', 'client_credentials', '--client-id', BASIC_CLIENT_ID, '--client-auth', 'client_secret_basic');
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /whoami/);
        assert.ok(!basic.transcript.includes(BASIC_CLIENT_SECRET), 'the client secret is never printed');
      } finally {
        await basic.dispose();
      }
    });

    for (const [kind, clientId] of [['EC P-256 (ES256)', 'ci-ec-key'], ['RSA (RS256)', 'ci-rsa-key']] as const) {
      it(`with private_key_jwt and an ${kind} key from a PEM file`, async function () {
        const keyFile = join(cli.storeDirectory, 'client-key.pem');
        await writeFile(keyFile, clientId === 'ci-ec-key' ? ecKey.pem : rsaKey.pem, { mode: 0o600 });
        const result = await cli.run('call', mcp.url, 'whoami', '--grant', 'client_credentials', '--client-id', clientId, '--private-key', keyFile);
        assert.equal(result.code, 0, result.stderr);
        assert.ok(!cli.transcript.includes('PRIVATE KEY'), 'the key is never printed');
      });
    }

    it('refuses a key the authorization server does not know for the client, stores nothing', async function () {
      const keyFile = join(cli.storeDirectory, 'wrong-key.pem');
      await writeFile(keyFile, rsaKey.pem, { mode: 0o600 });
      const result = await cli.run('token', mcp.url, '--grant', 'client_credentials', '--client-id', 'ci-ec-key', '--private-key', keyFile);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /invalid_client/);
      assert.doesNotMatch(await cli.storeContents(), /accessToken/);
    });

    it('renews by running the grant again once the token is due: one token request for 200 concurrent callers', async function () {
      const keyring = await createTestKeyring(cli.storeDirectory, cli.browser);
      const grant = toMachineGrant({ kind: 'client_credentials' }, () => Promise.reject(new Error('no files')));
      const options = { interactive: false, grant, client: { clientId: 'ci-secret', clientSecret: CLIENT_SECRET } };
      const first = await keyring.getAccessToken(mcp.url, options);
      await delay(TOKEN_LIFETIME_SECONDS * 1000 * 0.6);
      const before = as.requestCount('token');
      const results = await Promise.all(Array.from({ length: 200 }, () => keyring.getAccessToken(mcp.url, options)));
      assert.equal(as.requestCount('token') - before, 1);
      assert.equal(new Set(results.map((credential) => credential.accessToken)).size, 1);
      assert.notEqual(results[0]!.accessToken, first.accessToken);
    });
  });

  it('applies a server\'s configured grant to every caller that asks for a token or talks to the server', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser, {
      serverOptions: (serverUrl) => Promise.resolve(serverUrl === mcp.url ? { grant: { kind: 'client_credentials' }, client: { clientId: 'ci-secret', clientSecret: CLIENT_SECRET } } : undefined),
    });
    const credential = await keyring.getAccessToken(mcp.url, { interactive: false });
    assert.equal(credential.clientId, 'ci-secret');
    const response = await keyring.fetchFor(mcp.url, { interactive: false })(mcp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } }),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  it('obtains tokens with each grant from the engine\'s API as well', async function () {
    const grants: [string, MachineGrant][] = [
      ['ci-secret', { kind: 'client_credentials' }],
      ['workload', { kind: 'jwt-bearer', assertion: () => workloadAssertion() }],
      ['enterprise-app', { kind: 'token-exchange', identityProvider: { tokenEndpoint: idp.tokenEndpoint, clientId: 'keyring-at-idp', clientSecret: 'idp-secret', idToken: () => idp.issueIdToken('bob@example.com') } }],
    ];
    for (const [clientId, grant] of grants) {
      const keyring = await createTestKeyring(join(cli.storeDirectory, clientId), cli.browser);
      const credential = await keyring.getAccessToken(mcp.url, { interactive: false, grant, client: { clientId, clientSecret: CLIENT_SECRET } });
      assert.equal(credential.clientId, clientId, `${grant.kind}: bound to the configured client`);
      const seen = mcp.seenTokens.length;
      const response = await keyring.fetchFor(mcp.url, { interactive: false, grant, client: { clientId, clientSecret: CLIENT_SECRET } })(mcp.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } }),
      });
      assert.equal(response.status, 200, `${grant.kind}: the MCP server accepted the token`);
      await response.body?.cancel();
      assert.equal(mcp.seenTokens.at(seen), credential.accessToken);
    }
  });

  describe('JWT bearer (workload identity)', function () {
    it('exchanges an assertion from a file, and reads the file afresh when it renews', async function () {
      const assertionFile = join(cli.storeDirectory, 'workload-token');
      await writeFile(assertionFile, await workloadAssertion());
      const args = ['--grant', 'jwt-bearer', '--client-id', 'workload', '--assertion-file', assertionFile];
      const first = await cli.run('call', mcp.url, 'whoami', ...args);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /ci-job-42/, 'the token speaks for the workload');
      await writeFile(assertionFile, await workloadAssertion()); // the platform rotates the token file
      await delay(TOKEN_LIFETIME_SECONDS * 1000 + 100);
      const second = await cli.run('call', mcp.url, 'whoami', ...args);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(as.jwtBearer.refusals, [], 'the rotated assertion was used, not the spent one');
    });

    const refusals: [string, () => Promise<string>, RegExp][] = [
      ['for another audience', () => workloadAssertion({ audience: 'https://other-as.example' }), /aud/],
      ['that has expired', () => workloadAssertion({ expiresIn: '-1m' }), /exp/],
    ];
    for (const [name, make, reason] of refusals) {
      it(`reports an assertion ${name} as invalid_grant after one request, and stores nothing`, async function () {
        const before = as.requestCount('token');
        const refusedBefore = as.jwtBearer.refusals.length;
        const result = await cli.run('token', mcp.url, '--grant', 'jwt-bearer', '--client-id', 'workload', '--assertion', await make());
        assert.equal(result.code, 1);
        assert.match(result.stderr, /^mcp-keyring: invalid_grant: JWT assertion grant: the authorization server rejected the grant/m);
        assert.equal(as.requestCount('token') - before, 1, 'no retry, no other grant');
        assert.match(as.jwtBearer.refusals.slice(refusedBefore).join(), reason);
        assert.doesNotMatch(await cli.storeContents(), /accessToken/);
      });
    }

    it('does not get a second token for a replayed assertion', async function () {
      const assertion = await workloadAssertion();
      const first = await cli.run('token', mcp.url, '--grant', 'jwt-bearer', '--client-id', 'workload', '--assertion', assertion);
      assert.equal(first.code, 0, first.stderr);
      await delay(TOKEN_LIFETIME_SECONDS * 1000 + 100);
      const replay = await cli.run('token', mcp.url, '--grant', 'jwt-bearer', '--client-id', 'workload', '--assertion', assertion);
      assert.equal(replay.code, 1);
      assert.match(replay.stderr, /invalid_grant/);
      assert.match(as.jwtBearer.refusals.at(-1)!, /replayed jti/);
    });
  });

  describe('enterprise-managed authorization (ID-JAG)', function () {
    const exchangeArgs = ['--grant', 'token-exchange', '--client-id', 'enterprise-app', '--idp-client-id', 'keyring-at-idp', '--idp-client-secret', 'idp-secret'];

    it('exchanges the ID token for an ID-JAG naming the authorization server and the MCP server, then for an access token', async function () {
      const idTokenFile = join(cli.storeDirectory, 'id-token');
      await writeFile(idTokenFile, await idp.issueIdToken('alice@example.com'));
      const result = await cli.run('call', mcp.url, 'whoami', ...exchangeArgs, '--idp-token-endpoint', idp.tokenEndpoint, '--idp-id-token-file', idTokenFile);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /alice@example\.com/);
      const exchange = idp.exchanges.at(-1)!;
      assert.deepEqual({ audience: exchange.audience, resource: exchange.resource, outcome: exchange.outcome }, { audience: as.issuer, resource: mcp.url, outcome: 'issued' });
      assert.equal(as.jwtBearer.accepted.at(-1), 'oauth-id-jag+jwt');
      assert.ok(!cli.transcript.includes('idp-secret'));
    });

    it('stops at the identity provider when it refuses the ID token: the authorization server is never asked', async function () {
      const before = as.requestCount('token');
      const expired = await idp.issueIdToken('alice@example.com', { expiresInSeconds: -60 });
      const result = await cli.run('token', mcp.url, ...exchangeArgs, '--idp-token-endpoint', idp.tokenEndpoint, '--idp-id-token', expired);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /identity provider token exchange: the authorization server rejected the grant \(invalid_grant\)/);
      assert.equal(as.requestCount('token'), before);
      assert.ok(!cli.transcript.includes(expired), 'the ID token is never printed');
    });
  });
});
