import assert from 'node:assert/strict';
import { routeIdFor, toConfiguredServer } from '../../../src/vscode/configuredServer';
import { displayName, parseServerEntry } from '../../../src/vscode/serverEntry';

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
    assert.deepEqual(parseServerEntry({ url: 'https://h/mcp', clientAuthMethod: 'private_key_jwt', redirect: 'carrier-pigeon', scopes: 'mcp:read', staticCredential: 'password' }), { url: 'https://h/mcp' });
  });

  it('refuses headers that carry credentials or belong to the transport, and values with line breaks', function () {
    const entry = parseServerEntry({
      url: 'https://h/mcp',
      headers: { Authorization: 'Bearer x', Cookie: 'a=b', 'Mcp-Session-Id': 's', DPoP: 'p', 'X-Ok': 'fine', 'X-Injected': 'a\r\nEvil: 1', 'bad name': 'v' },
    });
    assert.deepEqual(entry?.headers, { 'X-Ok': 'fine' });
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
