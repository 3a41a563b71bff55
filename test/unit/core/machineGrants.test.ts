import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { compactVerify, createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { DpopKeys, withDpopNonceRetry } from '../../../src/core/dpop';
import { ID_JAG_TOKEN_TYPE, JWT_BEARER_GRANT, requestMachineTokens, type MachineGrant } from '../../../src/core/machineGrants';
import type { ClientRecord } from '../../../src/core/records';
import { httpClientOver, json, rejectsWithCode, routerFetch } from './fakes';

const ISSUER = 'https://as.example';
const TOKEN_ENDPOINT = `${ISSUER}/token`;
const IDP_TOKEN_ENDPOINT = 'https://idp.example/oauth2/token';
const RESOURCE = 'https://mcp.example/mcp';
const as: oauth.AuthorizationServer = { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT };
const POLICY = { serverAddressClass: 'loopback' as const };
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyClient: ClientRecord = {
  issuer: ISSUER, clientId: 'ci-bot', authMethod: 'private_key_jwt', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  redirectUris: [], origin: 'pre-registered', registeredAt: 0,
};

function tokenServer(answer: (form: URLSearchParams, headers: Headers) => Response = () => json({ access_token: 'at', token_type: 'Bearer', expires_in: 60 })) {
  const forms: { url: string; form: URLSearchParams; headers: Headers }[] = [];
  const server = routerFetch({
    [TOKEN_ENDPOINT]: (url, init) => {
      const form = new URLSearchParams(init?.body as string);
      const headers = new Headers(init?.headers);
      forms.push({ url: url.href, form, headers });
      return answer(form, headers);
    },
    [IDP_TOKEN_ENDPOINT]: (url, init) => {
      const form = new URLSearchParams(init?.body as string);
      forms.push({ url: url.href, form, headers: new Headers(init?.headers) });
      return json({ access_token: 'the-id-jag', issued_token_type: ID_JAG_TOKEN_TYPE, token_type: 'N_A', expires_in: 300 });
    },
  });
  return { http: httpClientOver(server.fetch), forms };
}

const request = (http: ReturnType<typeof tokenServer>['http'], client: ClientRecord = keyClient) => ({ http, policy: POLICY, as, client, resource: RESOURCE, scopes: ['mcp:read'] });

describe('machine grants', () => {
  it('client credentials with private_key_jwt: an RFC 7523 assertion with iss = sub = client id, aud = issuer, a short life and a fresh jti', async () => {
    const { http, forms } = tokenServer();
    await requestMachineTokens({ kind: 'client_credentials' }, request(http));
    await requestMachineTokens({ kind: 'client_credentials' }, request(http));
    const keys = createLocalJWKSet({ keys: [{ ...await exportJWK(publicKey), alg: 'ES256' }] });
    const ids = new Set<unknown>();
    for (const { form } of forms) {
      assert.equal(form.get('grant_type'), 'client_credentials');
      assert.equal(form.get('resource'), RESOURCE);
      assert.equal(form.get('scope'), 'mcp:read');
      assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const { payload } = await jwtVerify(form.get('client_assertion')!, keys, { issuer: 'ci-bot', subject: 'ci-bot', audience: ISSUER });
      assert.ok(payload.exp! - payload.iat! <= 60);
      ids.add(payload.jti);
    }
    assert.equal(ids.size, 2, 'every assertion has its own jti');
  });

  it('JWT bearer: sends the assertion with the resource, and reports a refusal as invalid_grant after one request', async () => {
    const { http, forms } = tokenServer(() => json({ error: 'invalid_grant' }, 400));
    const grant: MachineGrant = { kind: 'jwt-bearer', assertion: () => Promise.resolve(' the-assertion\n') };
    const error = await rejectsWithCode(requestMachineTokens(grant, request(http)), 'invalid_grant');
    assert.ok(!error.message.includes('the-assertion'));
    assert.equal(forms.length, 1);
    assert.equal(forms[0]!.form.get('grant_type'), JWT_BEARER_GRANT);
    assert.equal(forms[0]!.form.get('assertion'), 'the-assertion', 'read afresh and trimmed');
  });

  it('refuses an empty assertion before sending anything', async () => {
    const { http, forms } = tokenServer();
    await rejectsWithCode(requestMachineTokens({ kind: 'jwt-bearer', assertion: () => Promise.resolve('  ') }, request(http)), 'usage');
    assert.equal(forms.length, 0);
  });

  it('token exchange: asks the IdP for an ID-JAG for this issuer and resource, then presents it as a JWT bearer assertion', async () => {
    const { http, forms } = tokenServer();
    const grant: MachineGrant = { kind: 'token-exchange', identityProvider: { tokenEndpoint: IDP_TOKEN_ENDPOINT, clientId: 'at-idp', clientSecret: 'idp-secret', idToken: () => Promise.resolve('the-id-token') } };
    await requestMachineTokens(grant, request(http));
    const [exchange, bearer] = forms;
    assert.equal(exchange!.url, IDP_TOKEN_ENDPOINT);
    assert.deepEqual(Object.fromEntries(exchange!.form), {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: ID_JAG_TOKEN_TYPE,
      audience: ISSUER,
      resource: RESOURCE,
      subject_token: 'the-id-token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      scope: 'mcp:read',
    });
    assert.match(exchange!.headers.get('authorization') ?? '', /^Basic /);
    assert.equal(bearer!.url, TOKEN_ENDPOINT);
    assert.equal(bearer!.form.get('assertion'), 'the-id-jag');
  });

  it('binds the tokens to the DPoP key when the server issues a DPoP token, and only then', async () => {
    const dpop = await new DpopKeys().create();
    for (const [tokenType, bound] of [['DPoP', true], ['Bearer', false]] as const) {
      const { http, forms } = tokenServer(() => json({ access_token: 'at', token_type: tokenType, expires_in: 60 }));
      const tokens = await requestMachineTokens({ kind: 'client_credentials' }, { ...request(http), dpop });
      assert.equal(tokens.dpopKey !== undefined, bound);
      const { protectedHeader } = await compactVerify(forms[0]!.headers.get('dpop')!, async (header) => crypto.subtle.importKey('jwk', header.jwk!, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']));
      assert.equal(protectedHeader.typ, 'dpop+jwt');
    }
  });

  it('repeats a token request once with the nonce the server asks for, and not twice', async () => {
    const nonceDemand = () => json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n-1' });
    const dpop = await new DpopKeys().create();
    const once = tokenServer(((calls = 0) => () => (++calls === 1 ? nonceDemand() : json({ access_token: 'at', token_type: 'DPoP', expires_in: 60 })))());
    await requestMachineTokens({ kind: 'client_credentials' }, { ...request(once.http), dpop });
    assert.equal(once.forms.length, 2);
    const always = tokenServer(nonceDemand);
    await rejectsWithCode(requestMachineTokens({ kind: 'client_credentials' }, { ...request(always.http), dpop }), 'token_failed');
    assert.equal(always.forms.length, 2);
  });

  it('does not repeat other failures for DPoP', async () => {
    let attempts = 0;
    await assert.rejects(withDpopNonceRetry(await new DpopKeys().create(), () => {
      attempts++;
      return Promise.reject(new Error('other'));
    }));
    assert.equal(attempts, 1);
  });
});
