import assert from 'node:assert/strict';
import type * as oauth from 'oauth4webapi';
import { clientSecretBasic, formEncodeCredential } from '../../../src/core/clientSecretBasic';

const AS: oauth.AuthorizationServer = { issuer: 'https://as.example' };

function basicHeader(clientId: string, secret: string): string {
  const headers = new Headers();
  void clientSecretBasic(secret)(AS, { client_id: clientId }, new URLSearchParams(), headers);
  return headers.get('authorization') ?? '';
}

function decodedCredentials(header: string): string {
  return atob(header.replace(/^Basic /, ''));
}

describe('client_secret_basic credentials (RFC 6749 §2.3.1, Appendix B)', () => {
  it('leaves unreserved characters as they are, so servers that do not form-decode see the same client id', () => {
    assert.equal(decodedCredentials(basicHeader('conformance-client_id.v1~x', 'se-cr_et.~')), 'conformance-client_id.v1~x:se-cr_et.~');
  });

  const escaped: [string, string][] = [
    [':', '%3A'], ['+', '%2B'], ['/', '%2F'], ['%', '%25'], ['&', '%26'], ['=', '%3D'], [' ', '+'], ['!', '%21'], ['*', '%2A'],
    ["'", '%27'], ['(', '%28'], [')', '%29'], ['é', '%C3%A9'],
  ];
  for (const [character, encoded] of escaped) {
    it(`form-encodes ${JSON.stringify(character)} as ${encoded}`, () => {
      assert.equal(formEncodeCredential(`a${character}b`), `a${encoded}b`);
    });
  }

  it('escapes a colon in the client id, so the server splits id and secret where they meet', () => {
    assert.equal(decodedCredentials(basicHeader('tenant:app', 'p:w')), 'tenant%3Aapp:p%3Aw');
  });
});
