// The ids of the authentication sessions the editor keeps and shows: one per server and account. They name a server
// by its route id, never by its URL (whose query may carry a key), and an account by its opaque id, never its name.
import { routeIdFor } from './configuredServer';

const SESSION_ID_PREFIX = 'mcp-keyring:';

/** What a session stands for: one account (`CredentialStatus.accountId`) of one server. */
export interface SessionSubject {
  readonly serverUrl: string;
  readonly accountId: string;
}

export function sessionIdFor(subject: SessionSubject): string {
  return `${SESSION_ID_PREFIX}${routeIdFor(subject.serverUrl)}/${subject.accountId}`;
}

/** The account (among those the keyring holds) that a session id names, if any. */
export function subjectOfSession(sessionId: string, held: readonly SessionSubject[]): SessionSubject | undefined {
  return held.find((subject) => sessionIdFor(subject) === sessionId);
}
