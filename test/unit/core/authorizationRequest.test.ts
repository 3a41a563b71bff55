import assert from 'node:assert/strict';
import { buildAuthorizationRequest } from '../../../src/core/oauthExchanges';
import type { ClientRecord } from '../../../src/core/records';

const as = { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/authorize', token_endpoint: 'https://as.example/token' };
const client: ClientRecord = { issuer: as.issuer, clientId: 'app', authMethod: 'none', redirectUris: [], origin: 'pre-registered', registeredAt: 0 };
const redirectUri = 'http://127.0.0.1:4000/callback';

describe('the authorization request', () => {
  it('carries configured extra parameters, which cannot replace the protocol\'s own', async () => {
    const { url, state } = await buildAuthorizationRequest(as, client, {
      redirectUri, scopes: ['mcp:read'], resource: 'https://mcp.example/mcp', extraParameters: { audience: 'https://api.example', state: 'chosen', redirect_uri: 'https://evil.example' },
    });
    assert.equal(url.searchParams.get('audience'), 'https://api.example');
    assert.equal(url.searchParams.get('state'), state);
    assert.notEqual(state, 'chosen');
    assert.equal(url.searchParams.get('redirect_uri'), redirectUri);
    assert.equal(url.searchParams.get('resource'), 'https://mcp.example/mcp');
  });

  it('sends no resource when the setting omits it, and PKCE in any case', async () => {
    const { url, resource } = await buildAuthorizationRequest(as, client, { redirectUri, scopes: [], resource: undefined });
    assert.equal(url.searchParams.has('resource'), false);
    assert.equal(resource, undefined);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  });
});
