// Whether a browser sign-in may go to an authorization server whose metadata says nothing about PKCE. The MCP
// specification tells clients to refuse it; Entra ID and Amazon Cognito publish no `code_challenge_methods_supported`
// although they take PKCE, so the person may assert that the server enforces it (docs/design.md, "PKCE not advertised").
import type * as oauth from 'oauth4webapi';
import { KeyringError } from './errors';

/**
 * Refuses metadata without `code_challenge_methods_supported` unless `assumePkce`. PKCE (S256) is sent in every
 * authorization request either way; metadata that lists methods without S256 never gets here (discovery refuses it).
 */
export function assertPkceAdvertised(as: oauth.AuthorizationServer, assumePkce: boolean | undefined): void {
  if (as.code_challenge_methods_supported !== undefined || assumePkce === true) return;
  throw new KeyringError(
    'pkce_unsupported',
    `the authorization server ${as.issuer} does not advertise PKCE (its metadata has no code_challenge_methods_supported), and MCP clients must refuse such a server unless it is known to enforce PKCE`,
    { missing: 'assumePkce' },
  );
}
