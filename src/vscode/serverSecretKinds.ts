// Which secrets a server's configuration calls for, so "Set Server Secret…" offers only those: a pre-registered
// client's secret or private key, and the assertion or identity-provider credentials of its machine grant.
import type { GrantSecretKind } from './clientSecrets';
import type { ServerEntry } from './serverEntry';

export type ServerSecretKind = 'clientSecret' | GrantSecretKind;

export function secretKindsFor(entry: ServerEntry): ServerSecretKind[] {
  const kinds: ServerSecretKind[] = [];
  if (entry.clientId !== undefined) {
    const method = entry.clientAuthMethod;
    if (method === undefined || method === 'client_secret_basic' || method === 'client_secret_post') kinds.push('clientSecret');
    if (method === undefined || method === 'private_key_jwt') kinds.push('privateKey');
  }
  if (entry.grant === 'jwt-bearer' && entry.assertionFile === undefined) kinds.push('assertion');
  if (entry.grant === 'token-exchange') kinds.push('idpClientSecret', 'idpIdToken');
  return kinds;
}
