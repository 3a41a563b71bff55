import assert from 'node:assert/strict';
import { parseChallenges, findChallenge, type Challenge } from '../../../src/core/challenge';
import { Discoverer, type DiscoveryStep } from '../../../src/core/discovery';
import type { KeyringError } from '../../../src/core/errors';
import { assertPkceAdvertised } from '../../../src/core/pkceSupport';
import { fakeResolveHost, httpClientOver, jsonRoute, rejectsWithCode, routerFetch, type Route } from './fakes';

const SERVER = new URL('https://mcp.example/mcp');
const PATH_PRM = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
const ROOT_PRM = 'https://mcp.example/.well-known/oauth-protected-resource';
const AS = 'https://as.example';
const AS_8414 = 'https://as.example/.well-known/oauth-authorization-server';
const AS_OIDC = 'https://as.example/.well-known/openid-configuration';
const NOW = 1_750_000_000_000;
const policy = { serverAddressClass: 'loopback' as const };

function prm(overrides: Record<string, unknown> = {}): Route {
  return jsonRoute({ resource: 'https://mcp.example/mcp', authorization_servers: [AS], scopes_supported: ['files:read', 'files:write'], ...overrides });
}

function asMetadata(issuer: string, overrides: Record<string, unknown> = {}): Route {
  return jsonRoute({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    code_challenge_methods_supported: ['S256'],
    ...overrides,
  });
}

function bearer(header: string): Challenge {
  return findChallenge(parseChallenges(header), 'bearer')!;
}

function setup(routes: Record<string, Route>, resolveTable: Record<string, string[]> = {}) {
  const server = routerFetch(routes);
  const discoverer = new Discoverer(httpClientOver(server.fetch, { resolveHost: fakeResolveHost(resolveTable) }), () => NOW);
  return { server, discoverer };
}

function steps(trace: readonly DiscoveryStep[]): [string, DiscoveryStep['status']][] {
  return trace.map((step) => [step.url, step.status]);
}

describe('Discoverer', () => {
  it('reads the path-aware resource metadata and then the authorization server metadata', async () => {
    const { server, discoverer } = setup({ [PATH_PRM]: prm(), [AS_8414]: asMetadata(AS) });
    const discovery = await discoverer.discover(SERVER, undefined, policy);
    assert.deepEqual(server.urls(), [PATH_PRM, AS_8414]);
    assert.equal(discovery.serverUrl, 'https://mcp.example/mcp');
    assert.equal(discovery.resource, 'https://mcp.example/mcp');
    assert.equal(discovery.resourceMetadataUrl, PATH_PRM);
    assert.deepEqual(discovery.resourceScopes, ['files:read', 'files:write']);
    assert.equal(discovery.authorizationServer.issuer, AS);
    assert.equal(discovery.authorizationServer.token_endpoint, 'https://as.example/token');
    assert.equal(discovery.metadataSource, AS_8414);
    assert.equal(discovery.storedAt, NOW);
  });

  it('falls back to the root resource metadata after the path-aware location', async () => {
    const { server, discoverer } = setup({ [ROOT_PRM]: prm({ resource: 'https://mcp.example/' }), [AS_8414]: asMetadata(AS) });
    const discovery = await discoverer.discover(SERVER, undefined, policy);
    assert.deepEqual(server.urls(), [PATH_PRM, ROOT_PRM, AS_8414]);
    assert.equal(discovery.resourceMetadataUrl, ROOT_PRM);
    assert.equal(discovery.resource, 'https://mcp.example/');
  });

  it('moves past a document that is not valid resource metadata', async () => {
    const { server, discoverer } = setup({ [PATH_PRM]: jsonRoute({ resource: 'https://mcp.example/mcp' }), [ROOT_PRM]: prm(), [AS_8414]: asMetadata(AS) });
    const discovery = await discoverer.discover(SERVER, undefined, policy);
    assert.deepEqual(server.urls(), [PATH_PRM, ROOT_PRM, AS_8414]);
    assert.equal(discovery.resourceMetadataUrl, ROOT_PRM);
  });

  it('moves past a location that fails with a network error', async () => {
    const routes: Record<string, Route> = { [PATH_PRM]: () => Promise.reject(new TypeError('fetch failed')), [ROOT_PRM]: prm(), [AS_8414]: asMetadata(AS) };
    const { discoverer } = setup(routes);
    const discovery = await discoverer.discover(SERVER, undefined, policy);
    assert.equal(discovery.resourceMetadataUrl, ROOT_PRM);
    assert.equal(discovery.trace[0]?.status, 'error');
  });

  // Clients shipped in 2026 that stopped at the first such answer (issue #17, section 3): a gateway that guards every
  // path (401, 403), one that answers 400 for well-known URLs it does not serve (AWS Cognito), a catch-all HTML page.
  const notMetadata: [string, Route][] = [
    ['401 with a Bearer challenge', jsonRoute({ error: 'unauthorized' }, 401, { 'www-authenticate': 'Bearer' })],
    ['403', () => new Response('forbidden', { status: 403 })],
    ['400', jsonRoute({ error: 'invalid_request' }, 400)],
    ['an HTML 200', () => new Response('<!doctype html><title>Sign in</title>', { status: 200, headers: { 'content-type': 'text/html' } })],
  ];
  for (const [answer, route] of notMetadata) {
    it(`moves past ${answer} at the path-aware resource metadata location, and at RFC 8414 authorization server metadata`, async () => {
      const { server, discoverer } = setup({ [PATH_PRM]: route, [ROOT_PRM]: prm(), [AS_8414]: route, [AS_OIDC]: asMetadata(AS) });
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.deepEqual(server.urls(), [PATH_PRM, ROOT_PRM, AS_8414, AS_OIDC]);
      assert.equal(discovery.resourceMetadataUrl, ROOT_PRM);
      assert.equal(discovery.metadataSource, AS_OIDC);
    });
  }

  describe('with a challenge naming the resource metadata', () => {
    const NAMED = 'https://mcp.example/custom/prm';
    const challenge = bearer(`Bearer error="invalid_token", resource_metadata="${NAMED}"`);

    it('tries only the named URL, with no well-known probe', async () => {
      const { server, discoverer } = setup({ [NAMED]: prm(), [PATH_PRM]: prm(), [ROOT_PRM]: prm(), [AS_8414]: asMetadata(AS) });
      const discovery = await discoverer.discover(SERVER, challenge, policy);
      assert.deepEqual(server.urls(), [NAMED, AS_8414]);
      assert.equal(discovery.resourceMetadataUrl, NAMED);
    });

    it('fails with discovery_failed when the named URL cannot be read, even if a well-known location would answer', async () => {
      const { server, discoverer } = setup({ [PATH_PRM]: prm(), [ROOT_PRM]: prm(), [AS_8414]: asMetadata(AS) });
      await rejectsWithCode(discoverer.discover(SERVER, challenge, policy), 'discovery_failed');
      assert.deepEqual(server.urls(), [NAMED]);
    });

    it('refuses a named URL over plain http without requesting it', async () => {
      const { server, discoverer } = setup({});
      const trace: DiscoveryStep[] = [];
      await rejectsWithCode(discoverer.discover(SERVER, bearer('Bearer resource_metadata="http://evil.example/prm"'), policy, undefined, trace), 'insecure_url');
      assert.deepEqual(server.urls(), []);
      assert.equal(trace[0]?.status, 'skipped');
    });

    it('refuses a named value that is not a URL', async () => {
      const { server, discoverer } = setup({});
      await rejectsWithCode(discoverer.discover(SERVER, bearer('Bearer resource_metadata="/relative/prm"'), policy), 'discovery_failed');
      assert.deepEqual(server.urls(), []);
    });
  });

  describe('resource validation', () => {
    const mismatches: [string, string][] = [
      ['another host', 'https://evil.example/mcp'],
      ['a sibling path sharing a prefix', 'https://mcp.example/mc'],
      ['a child path', 'https://mcp.example/mcp/admin'],
      ['another port', 'https://mcp.example:8443/mcp'],
    ];
    for (const [name, resource] of mismatches) {
      it(`aborts with resource_mismatch for a resource on ${name}, asking no authorization server`, async () => {
        const { server, discoverer } = setup({ [PATH_PRM]: prm({ resource }), [ROOT_PRM]: prm(), [AS_8414]: asMetadata(AS) });
        const trace: DiscoveryStep[] = [];
        await rejectsWithCode(discoverer.discover(SERVER, undefined, policy, undefined, trace), 'resource_mismatch');
        assert.deepEqual(server.urls(), [PATH_PRM]);
        assert.deepEqual(steps(trace), [[PATH_PRM, 200]]);
      });
    }
  });

  describe('authorization server validation', () => {
    const AS1 = 'https://as1.example';
    const AS2 = 'https://as2.example';

    it('moves to the next authorization server when an issuer with a path differs by a trailing slash', async () => {
      const { server, discoverer } = setup({
        [PATH_PRM]: prm({ authorization_servers: [`${AS1}/tenant`, AS2] }),
        [`${AS1}/.well-known/oauth-authorization-server/tenant`]: asMetadata(`${AS1}/tenant`, { issuer: `${AS1}/tenant/` }),
        [`${AS2}/.well-known/oauth-authorization-server`]: asMetadata(AS2),
      });
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.equal(discovery.authorizationServer.issuer, AS2);
      assert.ok(server.urls().includes(`${AS2}/.well-known/oauth-authorization-server`));
      assert.ok(discovery.trace.some((step) => step.url.startsWith(AS1) && step.status === 'skipped'));
    });

    const refusals: [string, Record<string, unknown>, 'issuer_mismatch' | 'insecure_url' | 'pkce_unsupported' | 'invalid_response'][] = [
      ['an issuer with a path added', { issuer: `${AS}/tenant` }, 'issuer_mismatch'],
      ['an issuer differing by two trailing slashes', { issuer: `${AS}//` }, 'issuer_mismatch'],
      ['an issuer on another host', { issuer: 'https://evil.example' }, 'issuer_mismatch'],
      ['no issuer', { issuer: undefined }, 'issuer_mismatch'],
      ['an http token endpoint', { token_endpoint: 'http://as.example/token' }, 'insecure_url'],
      ['an http authorization endpoint', { authorization_endpoint: 'http://as.example/authorize' }, 'insecure_url'],
      ['an http registration endpoint', { registration_endpoint: 'http://as.example/register' }, 'insecure_url'],
      ['PKCE with plain only', { code_challenge_methods_supported: ['plain'] }, 'pkce_unsupported'],
      ['no token endpoint', { token_endpoint: undefined }, 'invalid_response'],
    ];
    for (const [name, overrides, code] of refusals) {
      it(`refuses the only authorization server when its metadata has ${name} (${code})`, async () => {
        const { discoverer } = setup({ [PATH_PRM]: prm(), [AS_8414]: asMetadata(AS, overrides) });
        await rejectsWithCode(discoverer.discover(SERVER, undefined, policy), code);
      });
    }

    it('takes a root issuer that differs from the listed one only by its trailing slash, keeping the metadata\'s spelling', async () => {
      // Google's MCP servers list https://accounts.google.com/ while its metadata says https://accounts.google.com.
      for (const [listed, stated] of [[`${AS}/`, AS], [AS, `${AS}/`]] as const) {
        const { discoverer } = setup({ [PATH_PRM]: prm({ authorization_servers: [listed] }), [AS_8414]: asMetadata(stated) });
        assert.equal((await discoverer.discover(SERVER, undefined, policy)).authorizationServer.issuer, stated);
      }
    });

    it('names both issuers as written when they differ, so that a trailing slash shows', async () => {
      const { discoverer } = setup({ [PATH_PRM]: prm({ authorization_servers: [`${AS}/tenant`] }), [`${AS}/.well-known/oauth-authorization-server/tenant`]: asMetadata(AS, { issuer: `${AS}/tenant/` }) });
      await assert.rejects(discoverer.discover(SERVER, undefined, policy), (error: Error) => error.message.includes(`"${AS}/tenant/" instead of "${AS}/tenant"`));
    });

    it('leaves metadata without PKCE methods to the sign-in, which refuses it unless told the server enforces PKCE', async () => {
      const { discoverer } = setup({ [PATH_PRM]: prm(), [AS_8414]: asMetadata(AS, { code_challenge_methods_supported: undefined }) });
      const { authorizationServer } = await discoverer.discover(SERVER, undefined, policy);
      assert.throws(() => assertPkceAdvertised(authorizationServer, undefined), (error: KeyringError) => error.code === 'pkce_unsupported' && error.missing === 'assumePkce');
      assert.doesNotThrow(() => assertPkceAdvertised(authorizationServer, true));
    });

    it('refuses an authorization server in a private range when the MCP server is on loopback', async () => {
      const { server, discoverer } = setup({ [PATH_PRM]: prm(), [AS_8414]: asMetadata(AS) }, { 'as.example': ['10.0.0.7'] });
      await rejectsWithCode(discoverer.discover(SERVER, undefined, policy), 'forbidden_address');
      assert.deepEqual(server.urls(), [PATH_PRM]);
    });

    it('refuses an authorization server identifier over plain http', async () => {
      const { server, discoverer } = setup({ [PATH_PRM]: prm({ authorization_servers: ['http://as.example'] }) });
      await rejectsWithCode(discoverer.discover(SERVER, undefined, policy), 'insecure_url');
      assert.deepEqual(server.urls(), [PATH_PRM]);
    });

    it('fails with discovery_failed when no authorization server publishes metadata', async () => {
      const { discoverer } = setup({ [PATH_PRM]: prm() });
      await rejectsWithCode(discoverer.discover(SERVER, undefined, policy), 'discovery_failed');
    });

    it('moves past a 200 that is not JSON (a catch-all HTML page) to the next metadata location', async () => {
      const htmlPage: Route = () => new Response('<!DOCTYPE html><title>Sign in</title>', { status: 200, headers: { 'content-type': 'text/html' } });
      const { server, discoverer } = setup({ [PATH_PRM]: prm(), [AS_8414]: htmlPage, [AS_OIDC]: asMetadata(AS) });
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.deepEqual(server.urls(), [PATH_PRM, AS_8414, AS_OIDC]);
      assert.equal(discovery.metadataSource, AS_OIDC);
      assert.match(discovery.trace.find((step) => step.url === AS_8414)?.outcome ?? '', /not a JSON metadata document/);
    });

    it('uses the OpenID configuration when a root issuer has no RFC 8414 document', async () => {
      const { server, discoverer } = setup({ [PATH_PRM]: prm(), [AS_OIDC]: asMetadata(AS) });
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.deepEqual(server.urls(), [PATH_PRM, AS_8414, AS_OIDC]);
      assert.equal(discovery.metadataSource, AS_OIDC);
    });

    it('walks the RFC 8414 insertion, OIDC insertion, OIDC append ladder for an issuer with a path, recording every step', async () => {
      const issuer = 'https://as.example/tenant';
      const ladder = [
        'https://as.example/.well-known/oauth-authorization-server/tenant',
        'https://as.example/.well-known/openid-configuration/tenant',
        'https://as.example/tenant/.well-known/openid-configuration',
      ];
      const { server, discoverer } = setup({ [ROOT_PRM]: prm({ resource: 'https://mcp.example', authorization_servers: [issuer] }), [ladder[2]!]: asMetadata(issuer) });
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.deepEqual(server.urls(), [PATH_PRM, ROOT_PRM, ...ladder]);
      assert.equal(discovery.metadataSource, ladder[2]);
      assert.equal(discovery.authorizationServer.issuer, issuer);
      assert.deepEqual(steps(discovery.trace), [[PATH_PRM, 404], [ROOT_PRM, 200], [ladder[0]!, 404], [ladder[1]!, 404], [ladder[2]!, 200]]);
    });
  });

  describe('legacy servers without resource metadata', () => {
    const ORIGIN_8414 = 'https://mcp.example/.well-known/oauth-authorization-server';

    it("treats the server's origin as the issuer and uses its metadata", async () => {
      const { server, discoverer } = setup({ [ORIGIN_8414]: asMetadata('https://mcp.example') });
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.deepEqual(server.urls(), [PATH_PRM, ROOT_PRM, ORIGIN_8414]);
      assert.equal(discovery.authorizationServer.issuer, 'https://mcp.example');
      assert.equal(discovery.resource, 'https://mcp.example/mcp');
      assert.equal(discovery.resourceMetadataUrl, undefined);
      assert.equal(discovery.metadataSource, ORIGIN_8414);
    });

    it('falls back to /authorize, /token and /register on the origin when there is no metadata at all, recording every step', async () => {
      const { server, discoverer } = setup({});
      const discovery = await discoverer.discover(SERVER, undefined, policy);
      assert.equal(discovery.metadataSource, 'defaults');
      assert.equal(discovery.authorizationServer.issuer, 'https://mcp.example');
      assert.equal(discovery.authorizationServer.authorization_endpoint, 'https://mcp.example/authorize');
      assert.equal(discovery.authorizationServer.token_endpoint, 'https://mcp.example/token');
      assert.equal(discovery.authorizationServer.registration_endpoint, 'https://mcp.example/register');
      assert.deepEqual(discovery.authorizationServer.code_challenge_methods_supported, ['S256']);
      const fetched = [PATH_PRM, ROOT_PRM, ORIGIN_8414, 'https://mcp.example/.well-known/openid-configuration'];
      assert.deepEqual(server.urls(), fetched);
      for (const url of fetched) assert.ok(discovery.trace.some((step) => step.url === url && step.status === 404), url);
      assert.equal(discovery.trace.filter((step) => step.status === 'skipped').length, 2);
    });

    it('still refuses legacy metadata that lacks S256', async () => {
      const { discoverer } = setup({ [ORIGIN_8414]: asMetadata('https://mcp.example', { code_challenge_methods_supported: ['plain'] }) });
      await rejectsWithCode(discoverer.discover(SERVER, undefined, policy), 'pkce_unsupported');
    });
  });

  it('keeps the steps taken in the caller’s trace when discovery fails', async () => {
    const { discoverer } = setup({ [PATH_PRM]: prm({ resource: 'https://evil.example/mcp' }) });
    const trace: DiscoveryStep[] = [];
    await rejectsWithCode(discoverer.discover(SERVER, undefined, policy, undefined, trace), 'resource_mismatch');
    assert.equal(trace.length, 1);
    assert.ok(trace[0]!.outcome.includes('does not match'));
  });
});
