import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EmbeddedJWK, compactVerify, type JWTPayload } from 'jose';
import { MAX_STEP_UPS, createAuthorizedFetch, type CredentialSource } from '../../../src/core/authorizedFetch';
import { DpopKeys } from '../../../src/core/dpop';
import { KeyringError } from '../../../src/core/errors';
import { generateDpopKey } from '../../../src/core/signingKeys';
import type { Challenge } from '../../../src/core/challenge';
import type { FetchFn } from '../../../src/core/ports';
import type { Credential } from '../../../src/core/records';
import { rejectsWithCode } from './fakes';

const SERVER = new URL('https://mcp.example/mcp');

function credential(accessToken: string, scopes: string[] = ['read']): Credential {
  return {
    serverUrl: SERVER.href, resource: SERVER.href, issuer: 'https://as.example', clientId: 'c', account: 'alice', accessToken, refreshToken: 'r',
    tokenType: 'bearer', scopes, obtainedAt: 0, needsSignIn: false,
  };
}

interface SourceCalls {
  current: number;
  recover: { rejected: string | undefined; challenge: Challenge | undefined; isSecondTry: boolean }[];
  stepUp: { scopes: readonly string[]; challenge: Challenge }[];
}

/** A credential source that hands out token-0, then token-1, token-2… for each recovery or step-up. */
function fakeSource(initial: Credential | 'none' = credential('token-0')): CredentialSource & { calls: SourceCalls } {
  const calls: SourceCalls = { current: 0, recover: [], stepUp: [] };
  let issued = 0;
  return {
    calls,
    current: () => {
      calls.current++;
      return Promise.resolve(initial === 'none' ? undefined : initial);
    },
    recoverFromUnauthorized: (rejected, challenge, isSecondTry) => {
      calls.recover.push({ rejected: rejected?.accessToken, challenge, isSecondTry });
      return Promise.resolve(credential(`token-${++issued}`));
    },
    refusedFreshToken: () => Promise.resolve(new KeyringError('unauthorized', 'the server refused a freshly obtained token')),
    stepUp: (scopes, challenge) => {
      calls.stepUp.push({ scopes, challenge });
      return Promise.resolve(credential(`token-${++issued}`, [...scopes]));
    },
  };
}

interface Sent { url: string; method: string | undefined; authorization: string | null; body: unknown; headers: Headers }

/** A server answering each request with the next response of a script (the last one repeats). */
function scriptedServer(...script: (() => Response)[]): { fetch: FetchFn; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: FetchFn = (input, init) => {
    const headers = new Headers(init?.headers);
    sent.push({ url: new URL(input).href, method: init?.method, authorization: headers.get('authorization'), body: init?.body, headers });
    const next = script[Math.min(sent.length, script.length) - 1]!;
    return Promise.resolve(next());
  };
  return { fetch, sent };
}

const ok = () => new Response('{"jsonrpc":"2.0"}', { status: 200 });
const unauthorized = () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", resource_metadata="https://mcp.example/prm"' } });
const insufficientScope = (scope: string) => () => new Response(null, { status: 403, headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` } });

describe('createAuthorizedFetch', () => {
  it("sends the current token to the server's origin", async () => {
    const server = scriptedServer(ok);
    const authorizedFetch = createAuthorizedFetch(SERVER, fakeSource(), server.fetch, new DpopKeys());
    const response = await authorizedFetch('https://mcp.example/mcp', { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 200);
    assert.equal(server.sent[0]?.authorization, 'Bearer token-0');
    assert.equal(server.sent[0]?.headers.get('content-type'), 'application/json');
  });

  it('sends the token to another path of the same origin', async () => {
    const server = scriptedServer(ok);
    await createAuthorizedFetch(SERVER, fakeSource(), server.fetch, new DpopKeys())(new URL('https://mcp.example/other'));
    assert.equal(server.sent[0]?.authorization, 'Bearer token-0');
  });

  const foreign = ['https://evil.example/mcp', 'https://mcp.example:8443/mcp', 'http://mcp.example/mcp', 'https://sub.mcp.example/mcp'];
  for (const url of foreign) {
    it(`never sends the token to ${url}, nor asks for one`, async () => {
      const server = scriptedServer(unauthorized);
      const source = fakeSource();
      const response = await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(url);
      assert.equal(response.status, 401);
      assert.equal(server.sent.length, 1);
      assert.equal(server.sent[0]?.authorization, null);
      assert.equal(source.calls.current, 0);
      assert.deepEqual(source.calls.recover, []);
    });
  }

  it('sends no token when there is no credential yet', async () => {
    const server = scriptedServer(ok);
    await createAuthorizedFetch(SERVER, fakeSource('none'), server.fetch, new DpopKeys())(SERVER);
    assert.equal(server.sent[0]?.authorization, null);
  });

  it('recovers from a 401 and retries the request with the new token and the same body', async () => {
    const server = scriptedServer(unauthorized, ok);
    const source = fakeSource();
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
    const response = await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER, { method: 'POST', body });
    assert.equal(response.status, 200);
    assert.deepEqual(server.sent.map((request) => [request.authorization, request.method, request.body]), [
      ['Bearer token-0', 'POST', body],
      ['Bearer token-1', 'POST', body],
    ]);
    assert.equal(source.calls.recover.length, 1);
    assert.equal(source.calls.recover[0]?.rejected, 'token-0');
    assert.equal(source.calls.recover[0]?.isSecondTry, false);
    assert.equal(source.calls.recover[0]?.challenge?.params.resource_metadata, 'https://mcp.example/prm');
  });

  it('recovers a second time, saying so, after a second 401', async () => {
    const server = scriptedServer(unauthorized, unauthorized, ok);
    const source = fakeSource();
    const response = await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER);
    assert.equal(response.status, 200);
    assert.deepEqual(source.calls.recover.map((call) => [call.rejected, call.isSecondTry]), [['token-0', false], ['token-1', true]]);
    assert.equal(server.sent[2]?.authorization, 'Bearer token-2');
  });

  it('fails with unauthorized on a third 401', async () => {
    const server = scriptedServer(unauthorized);
    const source = fakeSource();
    await rejectsWithCode(createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER), 'unauthorized');
    assert.equal(server.sent.length, 3);
    assert.equal(source.calls.recover.length, 2);
  });

  it('recovers from a 401 when there was no credential at all', async () => {
    const server = scriptedServer(unauthorized, ok);
    const source = fakeSource('none');
    await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER);
    assert.equal(source.calls.recover[0]?.rejected, undefined);
    assert.equal(server.sent[1]?.authorization, 'Bearer token-1');
  });

  it('steps up with the union of granted and challenged scopes, then retries', async () => {
    const server = scriptedServer(insufficientScope('write read admin'), ok);
    const source = fakeSource(credential('token-0', ['read', 'profile']));
    const response = await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER, { method: 'POST', body: 'payload' });
    assert.equal(response.status, 200);
    assert.deepEqual(source.calls.stepUp.map((call) => call.scopes), [['read', 'profile', 'write', 'admin']]);
    assert.equal(source.calls.stepUp[0]?.challenge.params.error, 'insufficient_scope');
    assert.deepEqual(server.sent.map((request) => [request.authorization, request.body]), [['Bearer token-0', 'payload'], ['Bearer token-1', 'payload']]);
  });

  it('accumulates scopes over successive step-ups', async () => {
    const server = scriptedServer(insufficientScope('a'), insufficientScope('b'), ok);
    const source = fakeSource(credential('token-0', ['read']));
    await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER);
    assert.deepEqual(source.calls.stepUp.map((call) => call.scopes), [['read', 'a'], ['read', 'a', 'b']]);
  });

  it(`steps up at most ${MAX_STEP_UPS} times, then fails with step_up_exhausted`, async () => {
    const server = scriptedServer(insufficientScope('more'));
    const source = fakeSource();
    await rejectsWithCode(createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER), 'step_up_exhausted');
    assert.equal(source.calls.stepUp.length, MAX_STEP_UPS);
    assert.equal(server.sent.length, MAX_STEP_UPS + 1);
  });

  it('makes at most three authorizations for one request that starts signed out, the sign-in included', async () => {
    // The MCP conformance suite's scope-retry-limit bound: a server that keeps answering insufficient_scope must
    // not keep the person in the browser.
    const server = scriptedServer(unauthorized, insufficientScope('admin'));
    const source = fakeSource('none');
    await rejectsWithCode(createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER), 'step_up_exhausted');
    assert.equal(source.calls.recover.length + source.calls.stepUp.length, 3);
  });

  const passThrough: [string, () => Response][] = [
    ['a 200', () => new Response('x', { status: 200 })],
    ['a 202 without body', () => new Response(null, { status: 202 })],
    ['a 404', () => new Response('missing', { status: 404 })],
    ['a 500', () => new Response('boom', { status: 500 })],
    ['a 403 without a challenge', () => new Response('forbidden', { status: 403 })],
    ['a 403 with another Bearer error', () => new Response('forbidden', { status: 403, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })],
    ['a 403 with insufficient_scope in a challenge of another scheme', () => new Response('forbidden', { status: 403, headers: { 'www-authenticate': 'Negotiate error="insufficient_scope"' } })],
  ];
  for (const [name, respond] of passThrough) {
    it(`passes ${name} through untouched`, async () => {
      let returned: Response | undefined;
      const source = fakeSource();
      const fetch: FetchFn = () => {
        returned = respond();
        return Promise.resolve(returned);
      };
      const response = await createAuthorizedFetch(SERVER, source, fetch, new DpopKeys())(SERVER);
      assert.equal(response, returned);
      assert.deepEqual(source.calls.recover, []);
      assert.deepEqual(source.calls.stepUp, []);
    });
  }
});

describe('createAuthorizedFetch with a DPoP-bound credential', () => {
  async function dpopCredential(accessToken: string): Promise<Credential> {
    return { ...credential(accessToken), tokenType: 'dpop', dpopKey: await generateDpopKey() };
  }

  async function proofOf(sent: Sent): Promise<JWTPayload & { htm?: string; htu?: string; ath?: string; nonce?: string }> {
    const proof = sent.headers.get('dpop');
    assert.ok(proof, 'a DPoP proof header is sent');
    const { payload, protectedHeader } = await compactVerify(proof, EmbeddedJWK);
    assert.equal(protectedHeader.typ, 'dpop+jwt');
    return JSON.parse(new TextDecoder().decode(payload)) as JWTPayload;
  }

  it('sends the token with the DPoP scheme and a proof naming the method, URL and token hash', async () => {
    const server = scriptedServer(ok, ok);
    const authorizedFetch = createAuthorizedFetch(SERVER, fakeSource(await dpopCredential('bound-token')), server.fetch, new DpopKeys());
    await authorizedFetch(new URL('https://mcp.example/mcp?session=1'), { method: 'POST', body: '{}' });
    await authorizedFetch(SERVER, { method: 'GET' });
    assert.equal(server.sent[0]!.authorization, 'DPoP bound-token');
    const [first, second] = [await proofOf(server.sent[0]!), await proofOf(server.sent[1]!)];
    assert.equal(first.htm, 'POST');
    assert.equal(first.htu, 'https://mcp.example/mcp', 'htu carries no query (RFC 9449 §4.2)');
    assert.equal(first.ath, createHash('sha256').update('bound-token').digest('base64url'));
    assert.equal(second.htm, 'GET');
    assert.notEqual(first.jti, second.jti, 'every proof has its own jti');
  });

  it('repeats a request once with the nonce the server demands, without treating it as a refused token', async () => {
    const useNonce = () => new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'nonce-1' } });
    const server = scriptedServer(useNonce, ok);
    const source = fakeSource(await dpopCredential('bound-token'));
    const response = await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER, { method: 'POST', body: '{}' });
    assert.equal(response.status, 200);
    assert.equal(server.sent.length, 2);
    assert.equal((await proofOf(server.sent[0]!)).nonce, undefined);
    assert.equal((await proofOf(server.sent[1]!)).nonce, 'nonce-1');
    assert.equal(server.sent[1]!.body, '{}');
    assert.deepEqual(source.calls.recover, []);
  });

  it('steps up on insufficient_scope in a DPoP challenge', async () => {
    const forbidden = () => new Response(null, { status: 403, headers: { 'www-authenticate': 'DPoP error="insufficient_scope", scope="write"' } });
    const server = scriptedServer(forbidden, ok);
    const source = fakeSource(await dpopCredential('bound-token'));
    await createAuthorizedFetch(SERVER, source, server.fetch, new DpopKeys())(SERVER);
    assert.deepEqual(source.calls.stepUp.map((call) => call.scopes), [['read', 'write']]);
  });
});
