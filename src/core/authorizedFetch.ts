// The fetch an MCP client uses: attaches the current access token (only ever to the server's own origin), and
// answers the server's challenges on any request — 401: refresh, then sign in; 403 insufficient_scope: step up
// with the union of granted and challenged scopes, at most twice — before retrying the request.
import { findAuthorizationChallenge, parseChallenges, type Challenge } from './challenge';
import { sendWithDpop, type DpopKeys } from './dpop';
import { KeyringError } from './errors';
import type { FetchFn } from './ports';
import type { Credential } from './records';
import { parseScope, unionScopes } from './scopes';

/**
 * With the sign-in a request may start with, at most three authorizations for one request: a server that keeps
 * answering insufficient_scope does not keep the person in the browser (the MCP conformance suite's bound).
 */
export const MAX_STEP_UPS = 2;

/** What the authorized fetch needs from the keyring; kept narrow so it can be tested on its own. */
export interface CredentialSource {
  /** The stored credential if one is bound to the server (refreshed when due), or undefined when there is none. */
  current(): Promise<Credential | undefined>;
  /** The server refused `rejected` (or there was none): a better credential, or an error. */
  recoverFromUnauthorized(rejected: Credential | undefined, challenge: Challenge | undefined, isSecondTry: boolean): Promise<Credential>;
  /** Why the server may have refused `refused`, obtained a moment ago: the error to end the request with. */
  refusedFreshToken(refused: Credential | undefined): Promise<KeyringError>;
  /** The server wants more scope. */
  stepUp(scopes: readonly string[], challenge: Challenge): Promise<Credential>;
}

export function createAuthorizedFetch(serverUrl: URL, source: CredentialSource, fetchImpl: FetchFn, dpopKeys: DpopKeys): FetchFn {
  const send = async (url: URL, init: RequestInit & { method: string }, credential: Credential | undefined): Promise<Response> => {
    if (!credential) return fetchImpl(url, init);
    if (credential.dpopKey) return sendWithDpop(fetchImpl, url, init, credential.accessToken, await dpopKeys.bindingFor(credential.dpopKey));
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${credential.accessToken}`);
    return fetchImpl(url, { ...init, headers });
  };

  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const request = { ...init, method: init?.method ?? (input instanceof Request ? input.method : 'GET') };
    // Tokens belong to the server's origin; anything else is sent without them.
    if (url.origin !== serverUrl.origin) return fetchImpl(url, request);

    let credential = await source.current();
    let unauthorizedCount = 0;
    let stepUps = 0;
    for (;;) {
      const response = await send(url, request, credential);
      const challenge = authorizationChallenge(response);
      if (response.status === 401) {
        await response.body?.cancel();
        if (unauthorizedCount >= 2) throw await source.refusedFreshToken(credential);
        credential = await source.recoverFromUnauthorized(credential, challenge, unauthorizedCount++ > 0);
        continue;
      }
      if (response.status === 403 && challenge?.params.error === 'insufficient_scope') {
        await response.body?.cancel();
        if (stepUps++ >= MAX_STEP_UPS) {
          throw new KeyringError('step_up_exhausted', `the server still demands more scope after ${MAX_STEP_UPS} step-up sign-ins`);
        }
        credential = await source.stepUp(unionScopes(credential?.scopes, parseScope(challenge.params.scope)), challenge);
        continue;
      }
      return response;
    }
  };
}

export function authorizationChallenge(response: Response): Challenge | undefined {
  return findAuthorizationChallenge(parseChallenges(response.headers.get('www-authenticate')));
}
