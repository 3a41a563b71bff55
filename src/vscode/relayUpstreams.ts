// Which upstream the relay forwards a route to, and with which credential: the keyring's authorized fetch for OAuth
// servers (silent: prompts belong to resolveMcpServerDefinition), a static header for servers without OAuth.
import type { Keyring } from '../core/keyring';
import type { FetchFn } from '../core/ports';
import type { RelayUpstream } from '../node/authorizingRelay';
import type { StaticCredentials } from './serverSecrets';
import type { PendingSignIns } from './pendingSignIns';
import type { ServerEntry } from './serverEntry';
import type { ServerRegistry } from './serverRegistry';

export function createUpstreamResolver(registry: ServerRegistry, keyring: Keyring, staticCredentials: StaticCredentials, pendingSignIns: PendingSignIns): (routeId: string) => RelayUpstream | undefined {
  return (routeId) => {
    const server = registry.list().find((candidate) => candidate.routeId === routeId);
    if (!server) return undefined;
    const isStatic = server.entry.staticCredential !== undefined && server.entry.staticCredential !== 'none';
    return {
      serverUrl: server.canonicalUrl,
      fetch: isStatic
        ? staticCredentialFetch(server.entry, server.canonicalUrl, staticCredentials)
        : keyring.fetchFor(server.canonicalUrl, { interactive: false, onSignInNeeded: (scopes) => pendingSignIns.record(server.canonicalUrl, scopes) }),
      headers: server.entry.headers ? { ...server.entry.headers } : undefined,
    };
  };
}

/** Attaches the stored static credential, and only on requests to the server's own origin. */
function staticCredentialFetch(entry: ServerEntry, canonicalUrl: string, staticCredentials: StaticCredentials): FetchFn {
  const origin = new URL(canonicalUrl).origin;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const secret = url.origin === origin ? await staticCredentials.get(canonicalUrl) : undefined;
    if (!secret) return fetch(url, init);
    const headers = new Headers(init?.headers);
    if (entry.staticCredential === 'apiKeyHeader' && entry.apiKeyHeader) headers.set(entry.apiKeyHeader, secret);
    else headers.set('authorization', `Bearer ${secret}`);
    return fetch(url, { ...init, headers });
  };
}
