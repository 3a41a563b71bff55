// The engine's one error type: a closed set of codes that adapters turn into messages, and the translator
// that maps oauth4webapi and platform errors onto it. Messages never carry secrets (callers pass redacted text).
import * as oauth from 'oauth4webapi';

export const ErrorCodes = [
  'usage',
  'network',
  'timeout',
  'cancelled',
  'response_too_large',
  'invalid_response',
  'insecure_url',
  'forbidden_address',
  'discovery_failed',
  'resource_mismatch',
  'issuer_mismatch',
  'issuer_changed',
  'pkce_unsupported',
  'invalid_target',
  'registration_unavailable',
  'registration_failed',
  'invalid_client',
  'state_mismatch',
  'iss_missing',
  'iss_mismatch',
  'access_denied',
  'device_flow_unavailable',
  'device_code_expired',
  'authorization_failed',
  'invalid_grant',
  'token_failed',
  'server_unavailable',
  'needs_sign_in',
  'insufficient_scope',
  'step_up_exhausted',
  'unauthorized',
  'not_signed_in',
  'account_mismatch',
  'store_failed',
  'mcp_failed',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/**
 * A piece of configuration the engine found missing. Each front end names it in its own words: the command line as
 * its flag, the editor as a setting or a command; the engine's message names neither.
 */
export type MissingConfiguration = 'clientId' | 'clientSecret' | 'privateKey' | 'scopes' | 'assumePkce' | 'resource' | 'audience';

/** What a front end needs to word an error as a choice for the person; the message is for logs and the CLI. */
export type ErrorHint = { readonly kind: 'issuerChange'; readonly previousIssuer: string; readonly issuer: string };

export class KeyringError extends Error {
  override readonly name = 'KeyringError';
  readonly missing?: MissingConfiguration;
  readonly hint?: ErrorHint;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; missing?: MissingConfiguration; hint?: ErrorHint },
  ) {
    super(message, { cause: options?.cause });
    this.missing = options?.missing;
    this.hint = options?.hint;
  }
}

export function isKeyringError(error: unknown, code?: ErrorCode): error is KeyringError {
  return error instanceof KeyringError && (code === undefined || error.code === code);
}

/** OAuth error codes (RFC 6749 §5.2 and friends) that mean "try again later", not "sign in again". */
const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'slow_down', 'server_error']);

/**
 * Turns anything thrown while talking to a server into a KeyringError. `context` names the step ("token
 * request", "registration") so the one-line reason says where it failed. Server-supplied error descriptions
 * are not echoed: they are untrusted text.
 */
export function toKeyringError(error: unknown, context: string): KeyringError {
  if (error instanceof KeyringError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    const oauthError = error.error;
    if (oauthError === 'invalid_grant') return new KeyringError('invalid_grant', `${context}: the authorization server rejected the grant (invalid_grant)`, { cause: error });
    if (oauthError === 'invalid_target') return invalidTarget(context, error);
    if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client' || oauthError === GITHUB_WRONG_CREDENTIALS) return new KeyringError('invalid_client', `${context}: the authorization server rejected the client (${oauthError})`, { cause: error });
    if (oauthError === 'access_denied') return new KeyringError('access_denied', `${context}: access was denied`, { cause: error });
    if (TRANSIENT_OAUTH_ERRORS.has(oauthError) || error.status >= 500) return new KeyringError('server_unavailable', `${context}: the server is temporarily unavailable (${safeCode(oauthError)}, HTTP ${error.status})`, { cause: error });
    return new KeyringError('token_failed', `${context}: the server answered ${safeCode(oauthError)} (HTTP ${error.status})`, { cause: error });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // RFC 6749 §5.2: a client that failed HTTP Basic authentication gets 401 with a challenge.
    if (error.status === 401) return new KeyringError('invalid_client', `${context}: the authorization server rejected the client's credentials (HTTP 401)`, { cause: error });
    if (error.status >= 500) return new KeyringError('server_unavailable', `${context}: the server is temporarily unavailable (HTTP ${error.status})`, { cause: error });
    return new KeyringError('token_failed', `${context}: the server refused the request (HTTP ${error.status})`, { cause: error });
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    const oauthError = error.error;
    if (oauthError === 'access_denied') return new KeyringError('access_denied', `${context}: consent was denied at the authorization server`, { cause: error });
    if (oauthError === 'invalid_target') return invalidTarget(context, error);
    return new KeyringError('authorization_failed', `${context}: the authorization server answered ${safeCode(oauthError)}`, { cause: error });
  }
  if (error instanceof oauth.OperationProcessingError) {
    if (isServerErrorStatus(error)) return new KeyringError('server_unavailable', `${context}: the server is temporarily unavailable`, { cause: error });
    return new KeyringError('invalid_response', `${context}: ${error.message}`, { cause: error });
  }
  if (error instanceof Error && (error.name === 'TimeoutError')) return new KeyringError('timeout', `${context}: the request timed out`, { cause: error });
  if (error instanceof Error && (error.name === 'AbortError')) return new KeyringError('cancelled', `${context}: cancelled`, { cause: error });
  // oauth4webapi rejects malformed server metadata (wrong types) as invalid arguments; that is the server's fault.
  if (error instanceof TypeError && isInvalidArgument(error)) return new KeyringError('invalid_response', `${context}: the server supplied unusable metadata`, { cause: error });
  if (error instanceof TypeError) return new KeyringError('network', `${context}: network error (${describeNetworkCause(error)})`, { cause: error });
  return new KeyringError('network', `${context}: ${error instanceof Error ? error.message : 'unexpected failure'}`, { cause: error });
}

/**
 * GitHub's code for a wrong client id or secret at its token endpoint (docs.github.com, "Troubleshooting OAuth app
 * access token request errors"), where RFC 6749 says `invalid_client`.
 */
const GITHUB_WRONG_CREDENTIALS = 'incorrect_client_credentials';

/** RFC 8707 §2: the authorization server refused the resource indicator; the person can name another, or none. */
function invalidTarget(context: string, cause: unknown): KeyringError {
  return new KeyringError('invalid_target', `${context}: the authorization server refused the resource indicator (invalid_target)`, { cause, missing: 'resource' });
}

function isInvalidArgument(error: TypeError): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE';
}

/**
 * A token endpoint's HTTP 400 that carries no OAuth error (glewlwyd refuses a revoked refresh token with an empty
 * body). Every 400 RFC 6749 §5.2 allows is a refusal that asking again does not change, so for a refresh it means
 * what `invalid_grant` means; unlike a garbled 200 or a 5xx, it is not read as an outage.
 */
export function isRefusalWithoutErrorCode(error: KeyringError): boolean {
  const cause: unknown = error.cause;
  return error.code === 'invalid_response' && cause instanceof oauth.OperationProcessingError && cause.cause instanceof Response && cause.cause.status === 400;
}

function isServerErrorStatus(error: oauth.OperationProcessingError): boolean {
  const cause: unknown = error.cause;
  return cause instanceof Response && cause.status >= 500;
}

/** Error codes are short tokens by spec; anything else from a server is replaced rather than echoed. */
function safeCode(value: string): string {
  return /^[\w.-]{1,64}$/.test(value) ? value : 'an unrecognised error';
}

function describeNetworkCause(error: TypeError): string {
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : error.message;
}

/**
 * The code a platform error carries (Node's ENOENT, EEXIST, ECONNREFUSED…), read without trusting the shape of
 * whatever was thrown.
 */
export function platformErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A short token naming a failure, for logs and answers that must never carry an error's text (which may quote a
 * secret or a server's words): the engine's code, else the platform's (of the cause first), else the error's name.
 */
export function shortErrorCode(error: unknown): string {
  if (isKeyringError(error)) return error.code;
  const platformCode = platformErrorCode((error as { cause?: unknown } | null | undefined)?.cause) ?? platformErrorCode(error);
  if (platformCode) return platformCode;
  return error instanceof Error ? error.name : 'unknown error';
}

/** No usable credential is stored: the person has to sign in (again). */
export function isSignInRequired(error: unknown): error is KeyringError {
  return isKeyringError(error) && (error.code === 'not_signed_in' || error.code === 'needs_sign_in');
}

/** Nothing more can be done without the person: no credential, a refused one, or a demand for more scope. */
export function needsInteractiveSignIn(error: unknown): error is KeyringError {
  return isSignInRequired(error) || (isKeyringError(error) && (error.code === 'unauthorized' || error.code === 'insufficient_scope' || error.code === 'step_up_exhausted'));
}

/** True for failures worth retrying later with the same credential (network, 5xx, temporarily_unavailable). */
export function isTransient(error: KeyringError): boolean {
  return error.code === 'network' || error.code === 'timeout' || error.code === 'server_unavailable';
}
