import assert from 'node:assert/strict';
import fc from 'fast-check';
import { redact, redactText, redactUrl, redactingLogger } from '../../../src/core/redact';
import { formatDiagnosis, formatStatus } from '../../../src/core/reportText';
import { recordingLogger } from './fakes';

const SECRET = 'S3cr3tV4lue-x_y.z~9';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';

describe('redactUrl', () => {
  const cases: [string, string][] = [
    ['https://as.example/callback?code=abc&state=xyz', 'https://as.example/callback'],
    ['https://as.example/callback#access_token=abc', 'https://as.example/callback'],
    ['http://127.0.0.1:33333/callback?code=abc#x', 'http://127.0.0.1:33333/callback'],
    ['https://alice:hunter2@as.example/token', 'https://as.example/token'],
    ['https://as.example', 'https://as.example/'],
  ];
  for (const [input, expected] of cases) {
    it(`shrinks ${input} to ${expected}`, () => {
      assert.equal(redactUrl(input), expected);
      assert.equal(redactUrl(new URL(input)), expected);
    });
  }

  it('masks something that is not a URL entirely', () => {
    assert.equal(redactUrl(`not a url ${SECRET}`), '[redacted]');
  });
});

describe('redact', () => {
  const secretLines: [string, string][] = [
    ['a code in a callback query', `callback https://app.example/cb?code=${SECRET}&state=abc`],
    ['a state in a callback query', `callback https://app.example/cb?state=${SECRET}`],
    ['an access token in a fragment', `https://app.example/cb#access_token=${SECRET}&token_type=bearer`],
    ['a refresh token in a form body', `grant_type=refresh_token&refresh_token=${SECRET}&client_id=abc`],
    ['a code verifier in a form body', `grant_type=authorization_code&code=abc&code_verifier=${SECRET}`],
    ['a client secret in a form body', `client_id=abc&client_secret=${SECRET}`],
    ['an access token in JSON', `{"access_token":"${SECRET}","token_type":"Bearer","expires_in":3600}`],
    ['a refresh token in spaced JSON', `{ "refresh_token" : "${SECRET}" }`],
    ['a client secret in JSON', `{"client_id":"abc","client_secret":"${SECRET}"}`],
    ['a Bearer authorization header', `Authorization: Bearer ${SECRET}`],
    ['a DPoP authorization header', `authorization: DPoP ${SECRET}`],
    ['a Basic authorization header', 'Authorization: Basic YWxpY2U6aHVudGVyMg=='],
    ['a JWT in free text', `received an id token ${JWT} from the server`],
    ['a parameter name in upper case', `CODE=${SECRET}`],
    // Not only a double quote may precede the value.
    ['a single-quoted value in JavaScript object notation', `{ access_token: '${SECRET}', token_type: 'Bearer' }`],
    ['a single-quoted key and value', `{'refresh_token': '${SECRET}'}`],
    // Keys servers take in their URL's query, and passwords anywhere.
    ['an api_key in a server URL', `https://mcp.example/mcp?api_key=${SECRET}`],
    ['an apikey in a server URL', `https://mcp.example/mcp?tenant=acme&apikey=${SECRET}`],
    ['a key in a server URL', `https://mcp.example/mcp?key=${SECRET}`],
    ['a secret in a form body', `id=abc&secret=${SECRET}`],
    ['a signature in a signed URL', `https://blob.example/file?sv=2024&sig=${SECRET}`],
    ['a signature in JSON', `{"signature":"${SECRET}"}`],
    ['a password in JSON', `{"user":"alice","password":"${SECRET}"}`],
  ];
  for (const [name, line] of secretLines) {
    it(`masks ${name}`, () => {
      const output = redact(line);
      assert.ok(output.includes('[redacted]'), output);
      for (const secret of [SECRET, JWT, 'YWxpY2U6aHVudGVyMg==']) assert.ok(!output.includes(secret), output);
    });
  }

  it('keeps the structure around masked values', () => {
    assert.equal(redact(`?code=${SECRET}&state=abc&iss=https://as.example`), '?code=[redacted]&state=[redacted]&iss=https://as.example');
    assert.equal(redact(`Authorization: Bearer ${SECRET}`), 'Authorization: Bearer [redacted]');
  });

  it('masks known secrets wherever they appear', () => {
    assert.equal(redact('the secret opaque-value-123 leaked', ['opaque-value-123']), 'the secret [redacted] leaked');
  });

  it('ignores known secrets too short to mask without destroying the text', () => {
    assert.equal(redact('a b c', ['a']), 'a b c');
  });

  const harmless = [
    '[discovery] GET https://mcp.example/.well-known/oauth-protected-resource/mcp → 404',
    '[refresh] token refresh: the authorization server rejected the grant (invalid_grant); marked as needing sign-in',
    '[http] following a metadata redirect to https://as.example/.well-known/oauth-authorization-server',
    'issuer https://as.example confirmed; scopes: files:read files:write offline_access',
    'the token_type is "Bearer"; the client uses client_secret_basic',
    'code_challenge_methods_supported lists S256',
  ];
  for (const line of harmless) {
    it(`leaves a line without secrets unchanged: ${line}`, () => {
      assert.equal(redact(line), line);
    });
  }

  it('never lets a token-like secret through in a typical log line', () => {
    const b64tokenChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/');
    const opaque = fc.tuple(fc.string({ unit: b64tokenChar, minLength: 12, maxLength: 60 }), fc.constantFrom('', '=', '==')).map(([body, pad]) => body + pad);
    const segment = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 8, maxLength: 40 });
    const jwt = fc.tuple(segment, segment, segment).map(([a, b, c]) => `eyJ${a}.${b}.${c}`);
    const templates: ((secret: string) => string)[] = [
      (s) => `[oauth] callback https://127.0.0.1:4000/callback?code=${s}&state=st4te&iss=https%3A%2F%2Fas.example`,
      (s) => `[oauth] callback https://127.0.0.1:4000/callback?state=${s}`,
      (s) => `[http] POST body: grant_type=refresh_token&refresh_token=${s}&resource=https%3A%2F%2Fmcp.example`,
      (s) => `[http] POST body: grant_type=authorization_code&code_verifier=${s}`,
      (s) => `[http] token response {"access_token":"${s}","token_type":"Bearer","expires_in":3600}`,
      (s) => `[http] token response {"refresh_token": "${s}"}`,
      (s) => `[mcp] request headers: Authorization: Bearer ${s}, Accept: application/json`,
      (s) => `[mcp] request headers: authorization: DPoP ${s}`,
      (s) => `[registration] {"client_id":"abc","client_secret":"${s}"}`,
      (s) => `[debug] id_token=${s}`,
    ];
    fc.assert(
      fc.property(fc.oneof(opaque, jwt), fc.integer({ min: 0, max: templates.length - 1 }), (secret, index) => {
        const template = templates[index]!;
        fc.pre(!template('').includes(secret));
        const output = redact(template(secret));
        assert.ok(!output.includes(secret), output);
      }),
      { numRuns: 200 },
    );
  });
});

describe('redactText', () => {
  it('shows every URL in a message for people as origin and path, and masks the known secrets', () => {
    assert.equal(
      redactText(`not signed in to https://mcp.example/mcp?t0k=${SECRET}; client opaque-secret-1`, ['opaque-secret-1']),
      'not signed in to https://mcp.example/mcp; client [redacted]',
    );
  });

  it('shows a server URL with a query in the status and diagnosis reports as origin and path, and masks nothing else', () => {
    const serverUrl = `https://mcp.example/mcp?t0k=${SECRET}`;
    const status = formatStatus([{ serverUrl, resource: serverUrl, issuer: 'https://as.example', clientId: 'c', account: 'alice', accountId: 'account-1', isPreferred: true, scopes: [], hasRefreshToken: false, dpopBound: false, needsSignIn: false }], 0);
    const diagnosis = formatDiagnosis({ serverUrl, steps: [], error: { code: 'network', message: `request to ${serverUrl} failed` } });
    assert.match(status, /token: +Bearer\n/);
    for (const text of [status, diagnosis]) {
      assert.ok(!text.includes(SECRET), text);
      assert.ok(text.includes('https://mcp.example/mcp'), text);
    }
  });
});

describe('redactingLogger', () => {
  it('redacts every line at every level before the inner logger sees it', () => {
    const inner = recordingLogger();
    const logger = redactingLogger(inner);
    logger.debug(`code=${SECRET}`);
    logger.info(`Authorization: Bearer ${SECRET}`);
    logger.warn(`id token ${JWT}`);
    logger.error(`{"access_token":"${SECRET}"}`);
    assert.equal(inner.lines.length, 4);
    assert.deepEqual(inner.lines.map((line) => line.split(' ')[0]), ['debug', 'info', 'warn', 'error']);
    for (const line of inner.lines) {
      assert.ok(!line.includes(SECRET) && !line.includes(JWT), line);
      assert.ok(line.includes('[redacted]'), line);
    }
  });

  it('logs URLs as origin and path: a query or fragment never reaches the log, whatever its parameters are called', () => {
    const inner = recordingLogger();
    redactingLogger(inner).info(`[signIn] https://mcp.example/mcp?tenant=acme&t0k=${SECRET} with the uriHandler redirect; see http://127.0.0.1:4000/cb#x=${SECRET}.`);
    redactingLogger(inner).debug(`[oauth] callback https://app.example/cb?code=${SECRET}`);
    assert.deepEqual(inner.lines, ['info [signIn] https://mcp.example/mcp with the uriHandler redirect; see http://127.0.0.1:4000/cb.', 'debug [oauth] callback https://app.example/cb']);
  });

  it('masks the known secrets current at the time of each line', () => {
    const inner = recordingLogger();
    const secrets: string[] = [];
    const logger = redactingLogger(inner, () => secrets);
    logger.info('registered with opaque-secret-1');
    secrets.push('opaque-secret-1');
    logger.info('registered with opaque-secret-1');
    assert.deepEqual(inner.lines, ['info registered with opaque-secret-1', 'info registered with [redacted]']);
  });
});
