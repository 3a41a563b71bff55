import assert from 'node:assert/strict';
import { routeIdFor, toConfiguredServer } from '../../../src/vscode/configuredServer';
import { displayName, parseServerEntry, type ServerEntry } from '../../../src/vscode/serverEntry';
import { secretKindsFor, type ServerSecretKind } from '../../../src/vscode/serverSecrets';

describe('reading a server entry from settings', function () {
  it('keeps the known fields of a valid entry', function () {
    assert.deepEqual(parseServerEntry({
      url: 'https://mcp.example.com/mcp', label: ' Example ', clientId: 'app', clientAuthMethod: 'client_secret_post',
      scopes: ['mcp:read', ''], redirect: 'loopback', headers: { 'X-Team': 'blue' }, staticCredential: 'none',
    }), {
      url: 'https://mcp.example.com/mcp', label: 'Example', clientId: 'app', clientAuthMethod: 'client_secret_post',
      scopes: ['mcp:read'], redirect: 'loopback', headers: { 'X-Team': 'blue' }, staticCredential: 'none',
    });
  });

  const invalid: [string, unknown][] = [
    ['a string', 'https://mcp.example.com'],
    ['null', null],
    ['an array', []],
    ['an entry without url', { label: 'x' }],
    ['a non-http url', { url: 'ftp://example.com/mcp' }],
    ['a relative url', { url: '/mcp' }],
  ];
  for (const [name, value] of invalid) {
    it(`rejects ${name}`, function () {
      assert.equal(parseServerEntry(value), undefined);
    });
  }

  it('drops unknown enum values and malformed fields instead of failing the whole entry', function () {
    assert.deepEqual(parseServerEntry({ url: 'https://h/mcp', clientAuthMethod: 'client_secret_jwt', redirect: 'carrier-pigeon', scopes: 'mcp:read', staticCredential: 'password' }), { url: 'https://h/mcp' });
  });

  it('refuses headers that carry credentials or belong to the transport, and values with line breaks', function () {
    const entry = parseServerEntry({
      url: 'https://h/mcp',
      headers: { Authorization: 'Bearer x', Cookie: 'a=b', 'Mcp-Session-Id': 's', DPoP: 'p', 'X-Ok': 'fine', 'X-Injected': 'a\r\nEvil: 1', 'bad name': 'v' },
    });
    assert.deepEqual(entry?.headers, { 'X-Ok': 'fine' });
  });

  it('keeps the settings for authorization servers that need telling, dropping malformed and protocol parameters', function () {
    const entry = parseServerEntry({
      url: 'https://mcp.example.com/mcp', resource: 'api://5d1c4a3e', assumePkce: true,
      authorizationParameters: { audience: 'https://api.example', state: 'x', access_type: 'offline', bad: 7, line: 'a\nb' },
    });
    assert.deepEqual(entry, { url: 'https://mcp.example.com/mcp', resource: 'api://5d1c4a3e', assumePkce: true, authorizationParameters: { audience: 'https://api.example', access_type: 'offline' } });
    assert.deepEqual(parseServerEntry({ url: 'https://mcp.example.com/mcp', resource: 'not a uri', assumePkce: 'yes', authorizationParameters: ['audience'] }), { url: 'https://mcp.example.com/mcp' });
  });

  it('names a server by its label, else by host and path', function () {
    assert.equal(displayName({ url: 'https://h.example/mcp', label: 'Mine' }), 'Mine');
    assert.equal(displayName({ url: 'https://h.example/mcp' }), 'h.example/mcp');
    assert.equal(displayName({ url: 'https://h.example/' }), 'h.example');
  });
});

describe('resolving a configured server', function () {
  it('gives the same route id to spellings of the same canonical URL and different ids to different servers', function () {
    const a = toConfiguredServer({ url: 'HTTPS://MCP.Example.com:443/mcp' });
    const b = toConfiguredServer({ url: 'https://mcp.example.com/mcp' });
    const c = toConfiguredServer({ url: 'https://mcp.example.com/other' });
    assert.equal(a?.canonicalUrl, 'https://mcp.example.com/mcp');
    assert.equal(a?.routeId, b?.routeId);
    assert.notEqual(a?.routeId, c?.routeId);
    assert.match(routeIdFor('https://mcp.example.com/mcp'), /^[0-9a-f]{16}$/);
  });

  it('refuses plain http to a host that is not loopback', function () {
    assert.equal(toConfiguredServer({ url: 'http://mcp.example.com/mcp' }), undefined);
    assert.equal(toConfiguredServer({ url: 'http://127.0.0.1:8080/mcp' })?.canonicalUrl, 'http://127.0.0.1:8080/mcp');
  });
});

describe('machine grant settings of a server entry', function () {
  it('keeps the grant, the signing algorithm, the assertion file, the identity provider and DPoP', function () {
    assert.deepEqual(parseServerEntry({
      url: 'https://mcp.example.com/mcp', clientId: 'app', clientAuthMethod: 'private_key_jwt', grant: 'token-exchange', signingAlg: 'ES256',
      assertionFile: ' /run/token ', idpTokenEndpoint: 'https://idp.example/token', idpClientId: 'kr', dpop: true,
    }), {
      url: 'https://mcp.example.com/mcp', clientId: 'app', clientAuthMethod: 'private_key_jwt', grant: 'token-exchange', signingAlg: 'ES256',
      assertionFile: '/run/token', idpTokenEndpoint: 'https://idp.example/token', idpClientId: 'kr', dpop: true,
    });
  });

  it('drops unknown grants and algorithms, a non-URL identity provider and a non-boolean dpop', function () {
    assert.deepEqual(parseServerEntry({ url: 'https://mcp.example.com/mcp', grant: 'password', signingAlg: 'HS256', idpTokenEndpoint: 'idp', dpop: 'yes' }), { url: 'https://mcp.example.com/mcp' });
  });
});

describe('which secrets a server calls for', function () {
  const url = 'https://mcp.example.com/mcp';
  const cases: [string, ServerEntry, ServerSecretKind[]][] = [
    ['a server that registers itself', { url }, []],
    ['a pre-registered client of unknown method', { url, clientId: 'c' }, ['clientSecret', 'privateKey']],
    ['a public pre-registered client', { url, clientId: 'c', clientAuthMethod: 'none' }, []],
    ['a client with private_key_jwt', { url, clientId: 'c', clientAuthMethod: 'private_key_jwt' }, ['privateKey']],
    ['jwt-bearer with an assertion file', { url, clientId: 'c', clientAuthMethod: 'client_secret_basic', grant: 'jwt-bearer', assertionFile: '/run/t' }, ['clientSecret']],
    ['jwt-bearer without one', { url, clientId: 'c', clientAuthMethod: 'client_secret_basic', grant: 'jwt-bearer' }, ['clientSecret', 'assertion']],
    ['token exchange', { url, clientId: 'c', clientAuthMethod: 'none', grant: 'token-exchange' }, ['idpClientSecret', 'idpIdToken']],
  ];
  for (const [name, entry, kinds] of cases) {
    it(`${name}: ${kinds.join(', ') || 'none'}`, function () {
      assert.deepEqual(secretKindsFor(entry), kinds);
    });
  }
});
