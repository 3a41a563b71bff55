import assert from 'node:assert/strict';
import {
  assertSecureUrl, authorizationServerMetadataUrls, canonicalServerUrl, isLoopbackHost, parseServerUrl, resourceMatchesServer, resourceMetadataUrls,
} from '../../../src/core/urls';
import { throwsWithCode } from './fakes';

describe('parseServerUrl', () => {
  const accepted = [
    'https://mcp.example/mcp',
    'https://mcp.example:8443/v1/mcp?tenant=a',
    'http://localhost:3000/mcp',
    'http://127.0.0.1:3000/mcp',
    'http://[::1]:3000/mcp',
    'http://app.localhost/mcp',
  ];
  for (const input of accepted) {
    it(`accepts ${input}`, () => {
      assert.equal(parseServerUrl(input).href, new URL(input).href);
    });
  }

  const refused: [string, string, 'usage' | 'insecure_url'][] = [
    ['not a URL', 'mcp.example/mcp', 'usage'],
    ['another scheme', 'ftp://mcp.example/mcp', 'usage'],
    ['credentials', 'https://user:secret@mcp.example/mcp', 'usage'],
    ['a user name alone', 'https://user@mcp.example/mcp', 'usage'],
    ['a fragment', 'https://mcp.example/mcp#part', 'usage'],
    ['plain http to a remote host', 'http://mcp.example/mcp', 'insecure_url'],
    ['plain http to a private address', 'http://10.0.0.5/mcp', 'insecure_url'],
    ['plain http to 0.0.0.0', 'http://0.0.0.0:3000/mcp', 'insecure_url'],
  ];
  for (const [name, input, code] of refused) {
    it(`refuses a URL with ${name} (${code})`, () => {
      const error = throwsWithCode(() => parseServerUrl(input), code);
      if (input.includes('secret')) assert.ok(!error.message.includes('secret'));
    });
  }
});

describe('canonicalServerUrl', () => {
  const cases: [string, string][] = [
    ['https://mcp.example/', 'https://mcp.example'],
    ['https://mcp.example', 'https://mcp.example'],
    ['https://MCP.Example:443/mcp', 'https://mcp.example/mcp'],
    ['https://mcp.example/mcp/', 'https://mcp.example/mcp/'],
    ['https://mcp.example:8443/mcp?tenant=a', 'https://mcp.example:8443/mcp?tenant=a'],
    ['https://mcp.example/mcp#frag', 'https://mcp.example/mcp'],
  ];
  for (const [input, expected] of cases) {
    it(`writes ${input} as ${expected}`, () => {
      assert.equal(canonicalServerUrl(new URL(input)), expected);
    });
  }
});

describe('isLoopbackHost', () => {
  const cases: [string, boolean][] = [
    ['localhost', true],
    ['LOCALHOST', true],
    ['app.localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['localhost.example', false],
    ['notlocalhost', false],
    ['mcp.example', false],
  ];
  for (const [host, expected] of cases) {
    it(`says ${expected} for ${host}`, () => {
      assert.equal(isLoopbackHost(host), expected);
    });
  }
});

describe('assertSecureUrl', () => {
  it('accepts https anywhere and http on loopback', () => {
    for (const url of ['https://as.example/token', 'http://localhost:9000/token', 'http://127.0.0.1/token']) {
      assert.doesNotThrow(() => assertSecureUrl(new URL(url), 'the token endpoint'));
    }
  });

  it('refuses http elsewhere with insecure_url, naming what was refused', () => {
    const error = throwsWithCode(() => assertSecureUrl(new URL('http://as.example/token?code=abc'), 'the token endpoint'), 'insecure_url');
    assert.ok(error.message.includes('the token endpoint'));
    assert.ok(!error.message.includes('code=abc'));
  });

  it('refuses schemes other than http and https', () => {
    throwsWithCode(() => assertSecureUrl(new URL('javascript:alert(1)'), 'a link'), 'insecure_url');
  });
});

describe('resourceMetadataUrls', () => {
  const cases: [string, string[]][] = [
    ['https://mcp.example/mcp', ['https://mcp.example/.well-known/oauth-protected-resource/mcp', 'https://mcp.example/.well-known/oauth-protected-resource']],
    ['https://mcp.example/mcp/', ['https://mcp.example/.well-known/oauth-protected-resource/mcp', 'https://mcp.example/.well-known/oauth-protected-resource']],
    ['https://mcp.example/a/b', ['https://mcp.example/.well-known/oauth-protected-resource/a/b', 'https://mcp.example/.well-known/oauth-protected-resource']],
    ['https://mcp.example:8443/mcp?x=1', ['https://mcp.example:8443/.well-known/oauth-protected-resource/mcp', 'https://mcp.example:8443/.well-known/oauth-protected-resource']],
    ['https://mcp.example/', ['https://mcp.example/.well-known/oauth-protected-resource']],
    ['https://mcp.example', ['https://mcp.example/.well-known/oauth-protected-resource']],
  ];
  for (const [server, expected] of cases) {
    it(`tries ${expected.length === 1 ? 'only the root location' : 'the path-aware location, then the root'} for ${server}`, () => {
      assert.deepEqual(resourceMetadataUrls(new URL(server)).map(String), expected);
    });
  }
});

describe('authorizationServerMetadataUrls', () => {
  it('tries RFC 8414 insertion, OIDC insertion, then OIDC append for an issuer with a path', () => {
    assert.deepEqual(authorizationServerMetadataUrls('https://as.example/tenant/1').map(String), [
      'https://as.example/.well-known/oauth-authorization-server/tenant/1',
      'https://as.example/.well-known/openid-configuration/tenant/1',
      'https://as.example/tenant/1/.well-known/openid-configuration',
    ]);
  });

  it("keeps every location on the issuer's own host when the issuer path starts with two slashes", () => {
    assert.deepEqual(authorizationServerMetadataUrls('https://as.example//other.example/t').map(String), [
      'https://as.example/.well-known/oauth-authorization-server//other.example/t',
      'https://as.example/.well-known/openid-configuration//other.example/t',
      'https://as.example//other.example/t/.well-known/openid-configuration',
    ]);
    assert.doesNotThrow(() => authorizationServerMetadataUrls('https://as.example//%F4%82%81%82/Y'));
  });

  it('treats a trailing slash on an issuer path like no slash', () => {
    assert.deepEqual(authorizationServerMetadataUrls('https://as.example/tenant/').map(String), [
      'https://as.example/.well-known/oauth-authorization-server/tenant',
      'https://as.example/.well-known/openid-configuration/tenant',
      'https://as.example/tenant/.well-known/openid-configuration',
    ]);
  });

  for (const issuer of ['https://as.example', 'https://as.example/']) {
    it(`tries the two root forms for the root issuer ${issuer}`, () => {
      assert.deepEqual(authorizationServerMetadataUrls(issuer).map(String), [
        'https://as.example/.well-known/oauth-authorization-server',
        'https://as.example/.well-known/openid-configuration',
      ]);
    });
  }
});

describe('resourceMatchesServer', () => {
  const cases: [string, string, boolean][] = [
    ['https://h/mcp', 'https://h/mcp', true],
    ['https://h/mcp/', 'https://h/mcp', true],
    ['https://h/mcp', 'https://h/mcp/', true],
    ['https://h', 'https://h/mcp', true],
    ['https://h/', 'https://h/mcp', true],
    ['https://h/api', 'https://h/api/mcp', true],
    ['https://H:443/mcp', 'https://h/mcp', true],
    ['https://h/mc', 'https://h/mcp', false],
    ['https://h/mcp', 'https://h/mc', false],
    ['https://h/mcp/v2', 'https://h/mcp', false],
    ['https://other/mcp', 'https://h/mcp', false],
    ['https://h:8443/mcp', 'https://h/mcp', false],
    ['http://h/mcp', 'https://h/mcp', false],
    ['https://sub.h/mcp', 'https://h/mcp', false],
    ['https://h/mcp#frag', 'https://h/mcp', false],
    ['https://h/mcp?tenant=b', 'https://h/mcp?tenant=a', false],
    ['https://h/mcp?tenant=a', 'https://h/mcp?tenant=a', true],
    ['not a url', 'https://h/mcp', false],
    ['', 'https://h/mcp', false],
  ];
  for (const [resource, server, expected] of cases) {
    it(`${expected ? 'accepts' : 'rejects'} resource ${JSON.stringify(resource)} for server ${server}`, () => {
      assert.equal(resourceMatchesServer(resource, new URL(server)), expected);
    });
  }
});
