// The words a server's configuration may use, defined once: the command line's options and the editor's settings
// read them from here, and a unit test holds package.json's setting enums to them.

/** How a pre-registered client authenticates at the token endpoint. */
export const CLIENT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Grants that obtain tokens with no person involved. */
export const MACHINE_GRANT_KINDS = ['client_credentials', 'jwt-bearer', 'token-exchange'] as const;
export type MachineGrantKind = (typeof MACHINE_GRANT_KINDS)[number];

/** How the browser's answer comes back to the editor. */
export const REDIRECT_STRATEGIES = ['uriHandler', 'loopback', 'deviceCode', 'pasteUrl'] as const;
export type RedirectStrategy = (typeof REDIRECT_STRATEGIES)[number];

/** A redirect strategy to try first, or `auto` for the capability table's order. */
export const REDIRECT_PREFERENCES = ['auto', ...REDIRECT_STRATEGIES] as const;
export type RedirectPreference = (typeof REDIRECT_PREFERENCES)[number];

/** A key or token the person gives for a server that asks for no OAuth, kept in the editor's SecretStorage. */
export const STATIC_CREDENTIAL_KINDS = ['none', 'bearer', 'apiKeyHeader'] as const;
export type StaticCredentialKind = (typeof STATIC_CREDENTIAL_KINDS)[number];

/** Whether `value` is one of `words`: for settings and arguments, which arrive as anything. */
export function isOneOf<T extends string>(words: readonly T[], value: unknown): value is T {
  return (words as readonly unknown[]).includes(value);
}

/**
 * Which resource indicator (RFC 8707) a sign-in sends: `auto` the MCP server's own (as the MCP specification asks),
 * `omit` none, or an absolute URI the authorization server knows the server by (Entra ID's `api://…`).
 */
export const RESOURCE_MODES = ['auto', 'omit'] as const;
export type ResourceSetting = (typeof RESOURCE_MODES)[number] | (string & {});

/** Whether `value` is `auto`, `omit`, or an absolute URI without a fragment (RFC 8707 §2). */
export function isResourceSetting(value: unknown): value is ResourceSetting {
  if (isOneOf(RESOURCE_MODES, value)) return true;
  if (typeof value !== 'string') return false;
  const uri = URL.parse(value);
  return uri !== null && uri.hash === '' && /^[a-z][a-z0-9+.-]*:/i.test(value);
}

/**
 * Parameters of an authorization request that configured extra parameters may not set: the protocol's own, which
 * carry the request's security (PKCE, state, redirect) or have a setting of their own (scope, resource).
 */
const PROTOCOL_AUTHORIZATION_PARAMETERS = new Set([
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'resource', 'request', 'request_uri', 'response_mode', 'nonce',
]);

/** Whether an extra authorization parameter (`audience`, `access_type`…) may be configured under this name. */
export function isExtraAuthorizationParameter(name: string): boolean {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(name) && !PROTOCOL_AUTHORIZATION_PARAMETERS.has(name.toLowerCase());
}

/**
 * The resource indicator a sign-in sends for a server whose own indicator is `serverResource` (none for a server
 * without resource metadata, see `resourceIndicator.ts`), or undefined for none.
 */
export function resourceIndicatorFor(serverResource: string | undefined, setting: ResourceSetting | undefined): string | undefined {
  if (setting === undefined || setting === 'auto') return serverResource;
  return setting === 'omit' ? undefined : setting;
}
