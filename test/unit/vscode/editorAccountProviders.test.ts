import assert from 'node:assert/strict';
import { editorClientId, editorProviderFor, githubEnterpriseIssuer, providerOfClientId, providerScopes } from '../../../src/vscode/editorAccountProviders';

describe('the editor accounts an authorization server matches', () => {
  const cases: readonly [string, string | undefined, ReturnType<typeof editorProviderFor>][] = [
    ['https://github.com/login/oauth', undefined, { providerId: 'github' }],
    ['https://github.com/login/oauth/', undefined, undefined],
    ['https://github.com/login/oauth/x', undefined, undefined],
    ['https://github.com/login/oauth?x=1', undefined, undefined],
    ['http://github.com/login/oauth', undefined, undefined],
    ['https://github.com.evil.example/login/oauth', undefined, undefined],
    ['https://evil.example/github.com/login/oauth', undefined, undefined],
    ['https://ghe.example.com/login/oauth', 'https://ghe.example.com', { providerId: 'github-enterprise' }],
    ['https://ghe.example.com/login/oauth', 'https://ghe.example.com/', { providerId: 'github-enterprise' }],
    ['http://127.0.0.1:8123/login/oauth', 'http://127.0.0.1:8123', { providerId: 'github-enterprise' }],
    ['https://ghe.example.com/login/oauth', undefined, undefined],
    ['https://ghe.example.com/login/oauth', 'https://other.example.com', undefined],
    ['https://ghe.example.com.evil.example/login/oauth', 'https://ghe.example.com', undefined],
    ['https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0', undefined, { providerId: 'microsoft', tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47' }],
    ['https://login.microsoftonline.com/contoso.onmicrosoft.com', undefined, { providerId: 'microsoft', tenant: 'contoso.onmicrosoft.com' }],
    ['https://login.microsoftonline.com/common/v2.0', undefined, { providerId: 'microsoft', tenant: 'common' }],
    ['https://login.microsoftonline.com/', undefined, undefined],
    ['https://login.microsoftonline.com/tenant/v2.0/extra', undefined, undefined],
    ['https://login.microsoftonline.com/tenant/v1.0', undefined, undefined],
    ['https://login.microsoftonline.com.evil.example/tenant/v2.0', undefined, undefined],
    ['https://login.microsoftonline.com:8443/tenant/v2.0', undefined, undefined],
    ['https://user@login.microsoftonline.com/tenant/v2.0', undefined, undefined],
    ['https://evil.example/login.microsoftonline.com/tenant', undefined, undefined],
    ['not a url', undefined, undefined],
  ];
  for (const [issuer, enterprise, expected] of cases) {
    it(`${issuer}${enterprise ? ` (github-enterprise.uri ${enterprise})` : ''} → ${expected ? expected.providerId : 'none'}`, () => {
      assert.deepEqual(editorProviderFor(issuer, enterprise), expected);
    });
  }

  it('takes no GitHub Enterprise Server issuer from a setting that names github.com or is not http(s)', () => {
    assert.equal(githubEnterpriseIssuer('https://github.com'), undefined);
    assert.equal(githubEnterpriseIssuer('ftp://ghe.example.com'), undefined);
    assert.equal(githubEnterpriseIssuer(''), undefined);
    assert.equal(githubEnterpriseIssuer('https://ghe.example.com/sub/'), 'https://ghe.example.com/sub/login/oauth');
  });
});

describe('the scopes asked of an editor provider', () => {
  it('asks GitHub for the scopes the server named, as they are', () => {
    assert.deepEqual(providerScopes({ providerId: 'github' }, ['repo', 'read:org'], 'https://api.example.com/mcp'), ['repo', 'read:org']);
  });

  it('asks Entra for the server scopes without those the provider adds, in the issuer tenant', () => {
    assert.deepEqual(
      providerScopes({ providerId: 'microsoft', tenant: 'contoso.onmicrosoft.com' }, ['api://1234/mcp.tools', 'offline_access', 'openid'], 'https://mcp.example.com/mcp'),
      ['api://1234/mcp.tools', 'VSCODE_TENANT:contoso.onmicrosoft.com'],
    );
  });

  it("asks Entra for the resource's .default scope when the server named none", () => {
    assert.deepEqual(providerScopes({ providerId: 'microsoft', tenant: 'common' }, ['offline_access'], 'api://1234/'), ['api://1234/.default', 'VSCODE_TENANT:common']);
    assert.deepEqual(providerScopes({ providerId: 'microsoft', tenant: 'common' }, [], undefined), ['VSCODE_TENANT:common']);
  });
});

describe('the client id of a lent account', () => {
  it('names its provider, and no client of our own is mistaken for one', () => {
    assert.equal(providerOfClientId(editorClientId('github-enterprise')), 'github-enterprise');
    assert.equal(providerOfClientId('vscode-authentication:other'), undefined);
    assert.equal(providerOfClientId('client-1'), undefined);
  });
});
