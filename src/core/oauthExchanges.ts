// The OAuth exchanges of a sign-in and of a credential's life: the authorization request (PKCE S256, state,
// resource), callback validation (state, RFC 9207 iss), code exchange, refresh and revocation. Each is an
// oauth4webapi request/process pair; the caller owns all state.
import * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import { clientAuthentication, oauthClient } from './clientIdentity';
import { withDpopNonceRetry, type DpopBinding } from './dpop';
import { KeyringError, toKeyringError } from './errors';
import type { HttpClient } from './http';
import type { ClientRecord } from './records';
import { OFFLINE_ACCESS, formatScope, parseScope } from './scopes';
import { normalizeTokenResponse } from './tokenResponse';

export interface PendingAuthorization {
  readonly url: URL;
  readonly state: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** The resource indicator sent (RFC 8707), or undefined when none is. */
  readonly resource: string | undefined;
}

export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly tokenType: string;
  readonly expiresInSeconds?: number;
  /** Granted scopes when the server said; otherwise undefined (the caller assumes what it asked for). */
  readonly scopes?: readonly string[];
  readonly idTokenClaims?: Readonly<Record<string, unknown>>;
  /** The key the access token is bound to (RFC 9449), when the server issued a DPoP token. */
  readonly dpopKey?: JsonWebKey;
}

export async function buildAuthorizationRequest(
  as: oauth.AuthorizationServer,
  client: ClientRecord,
  request: { redirectUri: string; scopes: readonly string[]; resource: string | undefined; extraParameters?: Readonly<Record<string, string>>; loginHint?: string; isAnotherAccount?: boolean },
): Promise<PendingAuthorization> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  const params = url.searchParams;
  // First, so that the protocol's own parameters below always win (the configuration may not name them anyway).
  for (const [name, value] of Object.entries(request.extraParameters ?? {})) params.set(name, value);
  params.set('response_type', 'code');
  params.set('client_id', client.clientId);
  params.set('redirect_uri', request.redirectUri);
  params.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  params.set('code_challenge_method', 'S256');
  params.set('state', state);
  if (request.resource !== undefined) params.set('resource', request.resource);
  if (request.scopes.length > 0) params.set('scope', formatScope(request.scopes));
  // OpenID Connect Core §3.1.2.1; a plain OAuth server ignores both (RFC 6749 §3.1). Another account needs a fresh
  // login: the browser's session at the server would sign in the same account again.
  if (request.loginHint !== undefined) params.set('login_hint', request.loginHint);
  const prompts = request.isAnotherAccount ? ['login'] : [];
  // OpenID providers honour offline_access only together with prompt=consent (OpenID Connect Core §11).
  if (request.scopes.includes(OFFLINE_ACCESS) && as.scopes_supported?.includes('openid')) prompts.push('consent');
  if (prompts.length > 0) params.set('prompt', prompts.join(' '));
  return { url, state, codeVerifier, redirectUri: request.redirectUri, scopes: request.scopes, resource: request.resource };
}

/**
 * Checks the callback before anything is sent to the token endpoint: `iss` (RFC 9207), `state`, and an error
 * answer. oauth4webapi performs the checks; which one failed is named from the same inputs for a precise code.
 */
export function validateCallback(as: oauth.AuthorizationServer, client: ClientRecord, callbackUrl: URL, pending: PendingAuthorization): URLSearchParams {
  try {
    return oauth.validateAuthResponse(as, oauthClient(client), callbackUrl, pending.state);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw toKeyringError(error, 'authorization');
    throw classifyCallbackFailure(as, callbackUrl.searchParams, pending.state, error);
  }
}

function classifyCallbackFailure(as: oauth.AuthorizationServer, params: URLSearchParams, expectedState: string, cause: unknown): KeyringError {
  const iss = params.get('iss');
  if (iss === null && as.authorization_response_iss_parameter_supported === true) {
    return new KeyringError('iss_missing', 'the authorization response lacks the iss parameter the server promised (RFC 9207); the code was not used', { cause });
  }
  if (iss !== null && iss !== as.issuer) return new KeyringError('iss_mismatch', 'the authorization response came from another issuer (RFC 9207 iss mismatch); the code was not used', { cause });
  if (params.get('state') !== expectedState) return new KeyringError('state_mismatch', 'the authorization response state does not match this sign-in; the code was not used', { cause });
  return new KeyringError('authorization_failed', 'the authorization response is malformed; the code was not used', { cause });
}

export async function exchangeCode(
  http: HttpClient,
  policy: DestinationPolicy,
  as: oauth.AuthorizationServer,
  client: ClientRecord,
  callbackParams: URLSearchParams,
  pending: PendingAuthorization,
  signal?: AbortSignal,
  dpop?: DpopBinding,
): Promise<TokenSet> {
  try {
    return await withDpopNonceRetry(dpop, async () => {
      const response = await oauth.authorizationCodeGrantRequest(as, oauthClient(client), clientAuthentication(client), callbackParams, pending.redirectUri, pending.codeVerifier, {
        ...http.oauthOptions('token', policy, signal),
        additionalParameters: resourceParameter(pending.resource),
        DPoP: dpop?.handle,
      });
      return toTokenSet(await oauth.processAuthorizationCodeResponse(as, oauthClient(client), await normalizeTokenResponse(response)), dpop);
    });
  } catch (error) {
    throw toKeyringError(error, 'token request');
  }
}

export async function refreshTokens(
  http: HttpClient,
  policy: DestinationPolicy,
  as: oauth.AuthorizationServer,
  client: ClientRecord,
  refreshToken: string,
  resource: string | undefined,
  signal?: AbortSignal,
  dpop?: DpopBinding,
): Promise<TokenSet> {
  try {
    return await withDpopNonceRetry(dpop, async () => {
      const response = await oauth.refreshTokenGrantRequest(as, oauthClient(client), clientAuthentication(client), refreshToken, {
        ...http.oauthOptions('token', policy, signal),
        additionalParameters: resourceParameter(resource),
        DPoP: dpop?.handle,
      });
      return toTokenSet(await oauth.processRefreshTokenResponse(as, oauthClient(client), await normalizeTokenResponse(response)), dpop);
    });
  } catch (error) {
    throw toKeyringError(error, 'token refresh');
  }
}

/**
 * RFC 7009. Resolves false when the server has no revocation endpoint or cannot revoke this kind of token
 * (`unsupported_token_type`, as for self-contained JWT access tokens).
 */
export async function revokeToken(
  http: HttpClient,
  policy: DestinationPolicy,
  as: oauth.AuthorizationServer,
  client: ClientRecord,
  token: string,
  hint: 'refresh_token' | 'access_token',
  signal?: AbortSignal,
): Promise<boolean> {
  if (!as.revocation_endpoint) return false;
  try {
    const response = await oauth.revocationRequest(as, oauthClient(client), clientAuthentication(client), token, {
      ...http.oauthOptions('revocation', policy, signal),
      additionalParameters: { token_type_hint: hint },
    });
    await oauth.processRevocationResponse(response);
    return true;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.error === 'unsupported_token_type') return false;
    throw toKeyringError(error, 'token revocation');
  }
}

/** The `resource` parameter of a token request (RFC 8707 §2.2), when one is sent. */
export function resourceParameter(resource: string | undefined): Record<string, string> {
  return resource === undefined ? {} : { resource };
}

/** A token response as the engine keeps it; `dpop` is the key the request was signed with, if any. */
export function toTokenSet(response: oauth.TokenEndpointResponse, dpop?: DpopBinding): TokenSet {
  const claims = oauth.getValidatedIdTokenClaims(response);
  // A server that ignores the proof issues a Bearer token; only a DPoP token is bound to the key.
  const boundKey = response.token_type === 'dpop' ? dpop?.jwk : undefined;
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    tokenType: response.token_type,
    expiresInSeconds: typeof response.expires_in === 'number' ? response.expires_in : undefined,
    scopes: typeof response.scope === 'string' ? parseScope(response.scope) : undefined,
    idTokenClaims: claims ? { ...claims } : undefined,
    dpopKey: boundKey,
  };
}
