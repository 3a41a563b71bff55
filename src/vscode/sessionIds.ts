// The ids of the authentication sessions the editor keeps and shows: they name a server by its route id, never by
// its URL, whose query may carry a key.
import { routeIdFor } from './configuredServer';

const SESSION_ID_PREFIX = 'mcp-keyring:';

export function sessionIdFor(canonicalUrl: string): string {
  return `${SESSION_ID_PREFIX}${routeIdFor(canonicalUrl)}`;
}

/** The server (among those the keyring holds credentials for) that a session id names, if any. */
export function serverOfSession(sessionId: string, canonicalUrls: readonly string[]): string | undefined {
  return canonicalUrls.find((url) => sessionIdFor(url) === sessionId);
}
