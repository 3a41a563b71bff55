// Which upstream the relay forwards a route to, and with which credential: the keyring's authorized fetch for OAuth
// servers (silent: prompts belong to resolveMcpServerDefinition), a static header for servers without OAuth.
import type { Keyring } from '../core/keyring';
import type { FetchFn } from '../core/ports';
import type { RelayUpstream } from '../node/authorizingRelay';
import type { StaticCredentials } from './serverSecrets';
import type { PendingSignIns } from './pendingSignIns';
import type { ServerEntry } from './serverEntry';
import type { ConfiguredServer } from './configuredServer';
import type { ServerRegistry } from './serverRegistry';

export function createUpstreamResolver(registry: ServerRegistry, keyring: Keyring, staticCredentials: StaticCredentials, pendingSignIns: PendingSignIns): (routeId: string) => RelayUpstream | undefined {
  // Built once per configured server, not per forwarded request (issue #15): the registry hands out the same server
  // object until its settings change, so a changed entry gets a new upstream and the old one is collected with it.
  const upstreams = new WeakMap<ConfiguredServer, RelayUpstream>();
  return (routeId) => {
    const server = registry.list().find((candidate) => candidate.routeId === routeId);
    if (!server) return undefined;
    let upstream = upstreams.get(server);
    if (!upstream) {
      upstream = createUpstream(server, keyring, staticCredentials, pendingSignIns);
      upstreams.set(server, upstream);
    }
    return upstream;
  };
}

function createUpstream(server: ConfiguredServer, keyring: Keyring, staticCredentials: StaticCredentials, pendingSignIns: PendingSignIns): RelayUpstream {
  const isStatic = server.entry.staticCredential !== undefined && server.entry.staticCredential !== 'none';
  return {
    serverUrl: server.canonicalUrl,
    fetch: isStatic
      ? staticCredentialFetch(server.entry, server.canonicalUrl, staticCredentials)
      : keyring.fetchFor(server.canonicalUrl, { interactive: false, onSignInNeeded: (scopes) => pendingSignIns.record(server.canonicalUrl, scopes) }),
    headers: server.entry.headers ? { ...server.entry.headers } : undefined,
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
