import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { KeyringError, isKeyringError, isRefusalWithoutErrorCode, isTransient, shortErrorCode, toKeyringError, ErrorCodes, type ErrorCode } from '../../../src/core/errors';

const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
const client: oauth.Client = { client_id: 'client-1' };

/** The error oauth4webapi throws when processing this token endpoint answer. */
async function refreshFailure(status: number, body: string, contentType = 'application/json'): Promise<unknown> {
  try {
    await oauth.processRefreshTokenResponse(as, client, new Response(body, { status, headers: { 'content-type': contentType } }));
  } catch (error) {
    return error;
  }
  throw new Error('oauth4webapi accepted the response');
}

function callbackFailure(query: string): unknown {
  try {
    oauth.validateAuthResponse(as, client, new URL(`https://app.example/cb?${query}`), 'expected-state');
  } catch (error) {
    return error;
  }
  throw new Error('oauth4webapi accepted the callback');
}

describe('toKeyringError', () => {
  const oauthErrors: { name: string; error: () => unknown; code: ErrorCode; transient: boolean }[] = [
    { name: 'invalid_grant from the token endpoint', error: () => refreshFailure(400, JSON.stringify({ error: 'invalid_grant' })), code: 'invalid_grant', transient: false },
    { name: 'invalid_client from the token endpoint', error: () => refreshFailure(401, JSON.stringify({ error: 'invalid_client' })), code: 'invalid_client', transient: false },
    { name: 'unauthorized_client from the token endpoint', error: () => refreshFailure(400, JSON.stringify({ error: 'unauthorized_client' })), code: 'invalid_client', transient: false },
    { name: 'temporarily_unavailable from the token endpoint', error: () => refreshFailure(400, JSON.stringify({ error: 'temporarily_unavailable' })), code: 'server_unavailable', transient: true },
    { name: 'server_error from the token endpoint', error: () => refreshFailure(400, JSON.stringify({ error: 'server_error' })), code: 'server_unavailable', transient: true },
    { name: 'an HTTP 503 with an HTML body', error: () => refreshFailure(503, '<html>down</html>', 'text/html'), code: 'server_unavailable', transient: true },
    { name: 'an HTTP 503 with an OAuth error body', error: () => refreshFailure(503, JSON.stringify({ error: 'temporarily_unavailable' })), code: 'server_unavailable', transient: true },
    { name: 'another OAuth error code', error: () => refreshFailure(400, JSON.stringify({ error: 'invalid_scope' })), code: 'token_failed', transient: false },
    { name: 'a 200 answer that is not JSON', error: () => refreshFailure(200, 'not json'), code: 'invalid_response', transient: false },
    { name: 'a 200 answer without an access token', error: () => refreshFailure(200, JSON.stringify({ token_type: 'bearer' })), code: 'invalid_response', transient: false },
    { name: 'access_denied in the authorization callback', error: () => callbackFailure('error=access_denied&state=expected-state'), code: 'access_denied', transient: false },
    { name: 'another error in the authorization callback', error: () => callbackFailure('error=invalid_request&state=expected-state'), code: 'authorization_failed', transient: false },
  ];
  for (const { name, error, code, transient } of oauthErrors) {
    it(`maps ${name} to ${code}${transient ? ' (transient)' : ''}`, async () => {
      const cause = await error();
      const mapped = toKeyringError(cause, 'token refresh');
      assert.ok(mapped instanceof KeyringError);
      assert.equal(mapped.code, code, mapped.message);
      assert.equal(isTransient(mapped), transient);
      assert.equal(mapped.cause, cause);
      assert.ok(mapped.message.startsWith('token refresh: '), mapped.message);
    });
  }

  it('tells a 400 answer without an OAuth error (glewlwyd\'s refusal of a revoked refresh token) from a garbled answer', async () => {
    const refusal = toKeyringError(await refreshFailure(400, '', ''), 'token refresh');
    assert.equal(refusal.code, 'invalid_response');
    assert.equal(isRefusalWithoutErrorCode(refusal), true);
    for (const garbled of [await refreshFailure(200, 'not json'), await refreshFailure(502, '<html>bad gateway</html>', 'text/html')]) {
      assert.equal(isRefusalWithoutErrorCode(toKeyringError(garbled, 'token refresh')), false);
    }
  });

  // oauth4webapi throws WWWAuthenticateChallengeError for a token endpoint answer carrying a WWW-Authenticate challenge
  // (RFC 6749 §5.2 requires one when HTTP Basic client authentication fails); it is not a (transient) network error.
  it('maps a 401 invalid_client answer with a Basic challenge (HTTP Basic client authentication failed) to invalid_client', async () => {
    let cause: unknown;
    try {
      await oauth.processRefreshTokenResponse(as, client, new Response(JSON.stringify({ error: 'invalid_client' }), {
        status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="as.example"' },
      }));
    } catch (error) {
      cause = error;
    }
    assert.ok(cause instanceof oauth.WWWAuthenticateChallengeError);
    const mapped = toKeyringError(cause, 'token refresh');
    assert.equal(mapped.code, 'invalid_client', mapped.message);
    assert.equal(isTransient(mapped), false);
  });

  const platformErrors: { name: string; error: unknown; code: ErrorCode }[] = [
    { name: 'a TypeError from fetch', error: new TypeError('fetch failed'), code: 'network' },
    { name: 'a TimeoutError DOMException', error: new DOMException('The operation timed out.', 'TimeoutError'), code: 'timeout' },
    { name: 'an AbortError DOMException', error: new DOMException('This operation was aborted', 'AbortError'), code: 'cancelled' },
    { name: 'an unknown Error', error: new Error('boom'), code: 'network' },
    { name: 'a thrown string', error: 'weird', code: 'network' },
  ];
  for (const { name, error, code } of platformErrors) {
    it(`maps ${name} to ${code}`, () => {
      assert.equal(toKeyringError(error, 'metadata request').code, code);
    });
  }

  it('names the system error code of a network failure', () => {
    const error = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const mapped = toKeyringError(error, 'token request');
    assert.equal(mapped.code, 'network');
    assert.ok(mapped.message.includes('ECONNREFUSED'), mapped.message);
  });

  it('returns a KeyringError unchanged', () => {
    const original = new KeyringError('resource_mismatch', 'x');
    assert.equal(toKeyringError(original, 'anything'), original);
  });

  it('echoes a token-shaped server error code', async () => {
    const mapped = toKeyringError(await refreshFailure(400, JSON.stringify({ error: 'invalid_target' })), 'token refresh');
    assert.ok(mapped.message.includes('invalid_target'), mapped.message);
  });

  const hostileCodes = [
    'visit https://phish.example/login now',
    '<script>alert(1)</script>',
    'a'.repeat(65),
    'line\nbreak',
  ];
  for (const hostile of hostileCodes) {
    it(`does not echo the server error code ${JSON.stringify(hostile.slice(0, 30))} or its description`, async () => {
      const mapped = toKeyringError(await refreshFailure(400, JSON.stringify({ error: hostile, error_description: 'go to https://phish.example' })), 'token refresh');
      assert.equal(mapped.code, 'token_failed');
      assert.ok(!mapped.message.includes(hostile), mapped.message);
      assert.ok(!mapped.message.includes('phish'), mapped.message);
    });
  }

  it('does not echo a hostile error code from the authorization callback', () => {
    const mapped = toKeyringError(callbackFailure(`error=${encodeURIComponent('call https://phish.example')}&state=expected-state`), 'authorization');
    assert.equal(mapped.code, 'authorization_failed');
    assert.ok(!mapped.message.includes('phish'), mapped.message);
  });
});

describe('isTransient', () => {
  const transient = new Set<ErrorCode>(['network', 'timeout', 'server_unavailable']);
  for (const code of ErrorCodes) {
    it(`says ${transient.has(code)} for ${code}`, () => {
      assert.equal(isTransient(new KeyringError(code, 'x')), transient.has(code));
    });
  }
});

describe('isKeyringError', () => {
  it('recognises a KeyringError, and its code when one is asked for', () => {
    const error = new KeyringError('timeout', 'x');
    assert.equal(isKeyringError(error), true);
    assert.equal(isKeyringError(error, 'timeout'), true);
    assert.equal(isKeyringError(error, 'network'), false);
    assert.equal(isKeyringError(new Error('x')), false);
  });
});

describe('shortErrorCode', () => {
  const cases: [string, unknown, string][] = [
    ['the engine\'s code', new KeyringError('store_failed', 'could not read secret-value'), 'store_failed'],
    ['the platform code of the cause before the error\'s own', Object.assign(new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }), { code: 'OTHER' }), 'ECONNREFUSED'],
    ['the platform code of the error', Object.assign(new Error('open /secret/path'), { code: 'ENOENT' }), 'ENOENT'],
    ['the error\'s name when there is no code', new RangeError('the secret-value is too long'), 'RangeError'],
    ['a fixed word for something that is not an error', 'secret-value', 'unknown error'],
  ];
  for (const [name, error, expected] of cases) {
    it(`gives ${name}, never the message`, () => assert.equal(shortErrorCode(error), expected));
  }
});
