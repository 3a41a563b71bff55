// The shape of one configured server (`mcpKeyring.servers`): no secrets, ever. Validated on every read because
// settings are hand-edited JSON.
import { isSigningAlg } from '../core/signingKeys';
import {
  CLIENT_AUTH_METHODS, isExtraAuthorizationParameter, isOneOf, isResourceSetting, MACHINE_GRANT_KINDS, REDIRECT_PREFERENCES, STATIC_CREDENTIAL_KINDS,
  type ClientAuthMethod, type MachineGrantKind, type RedirectPreference, type ResourceSetting, type StaticCredentialKind,
} from '../core/vocabulary';

export interface ServerEntry {
  readonly url: string;
  readonly label?: string;
  readonly clientId?: string;
  readonly clientAuthMethod?: ClientAuthMethod;
  readonly scopes?: readonly string[];
  readonly redirect?: RedirectPreference;
  /** Extra non-secret headers sent to the server. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Servers without OAuth: a static credential kept in SecretStorage. */
  readonly staticCredential?: StaticCredentialKind;
  /** Header name for `apiKeyHeader` credentials. */
  readonly apiKeyHeader?: string;
  /** Obtain tokens without a browser; the grant's secrets are kept in SecretStorage. */
  readonly grant?: MachineGrantKind;
  /** JWS algorithm of the `private_key_jwt` key (inferred from the key when absent). */
  readonly signingAlg?: string;
  /** jwt-bearer: a file holding the assertion (a workload identity token), read afresh on every renewal. */
  readonly assertionFile?: string;
  /** token-exchange: the identity provider's token endpoint and our client id there. */
  readonly idpTokenEndpoint?: string;
  readonly idpClientId?: string;
  /** Bind tokens to a key (RFC 9449): true or false; absent, only when the server asks for DPoP. */
  readonly dpop?: boolean;
  /** The resource indicator to send: `auto` (the server's own), `omit`, or a URI. */
  readonly resource?: ResourceSetting;
  /** Extra non-secret authorization request parameters (`audience`, `access_type`…). */
  readonly authorizationParameters?: Readonly<Record<string, string>>;
  /** The person asserts that the authorization server enforces PKCE although its metadata does not say so. */
  readonly assumePkce?: boolean;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;
/** Headers a configuration may not set: the credential is ours to attach, the rest belong to the transport. */
const RESERVED_HEADERS = new Set(['authorization', 'dpop', 'host', 'cookie', 'mcp-session-id', 'mcp-protocol-version', 'content-length']);

/** Reads one settings entry; anything malformed yields undefined (and the caller reports it), never a throw. */
export function parseServerEntry(value: unknown): ServerEntry | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  if (typeof raw.url !== 'string' || !isHttpUrl(raw.url)) return undefined;
  const entry: { -readonly [K in keyof ServerEntry]: ServerEntry[K] } = { url: raw.url };
  if (typeof raw.label === 'string' && raw.label.trim()) entry.label = raw.label.trim();
  if (typeof raw.clientId === 'string' && raw.clientId.trim()) entry.clientId = raw.clientId.trim();
  if (isOneOf(CLIENT_AUTH_METHODS, raw.clientAuthMethod)) entry.clientAuthMethod = raw.clientAuthMethod;
  if (Array.isArray(raw.scopes) && raw.scopes.every((scope) => typeof scope === 'string')) entry.scopes = raw.scopes.filter(Boolean);
  if (isOneOf(REDIRECT_PREFERENCES, raw.redirect)) entry.redirect = raw.redirect;
  if (isOneOf(STATIC_CREDENTIAL_KINDS, raw.staticCredential)) entry.staticCredential = raw.staticCredential;
  if (typeof raw.apiKeyHeader === 'string' && HEADER_NAME.test(raw.apiKeyHeader)) entry.apiKeyHeader = raw.apiKeyHeader;
  if (isOneOf(MACHINE_GRANT_KINDS, raw.grant)) entry.grant = raw.grant;
  if (typeof raw.signingAlg === 'string' && isSigningAlg(raw.signingAlg)) entry.signingAlg = raw.signingAlg;
  if (typeof raw.assertionFile === 'string' && raw.assertionFile.trim()) entry.assertionFile = raw.assertionFile.trim();
  if (typeof raw.idpTokenEndpoint === 'string' && isHttpUrl(raw.idpTokenEndpoint)) entry.idpTokenEndpoint = raw.idpTokenEndpoint;
  if (typeof raw.idpClientId === 'string' && raw.idpClientId.trim()) entry.idpClientId = raw.idpClientId.trim();
  if (typeof raw.dpop === 'boolean') entry.dpop = raw.dpop;
  if (isResourceSetting(raw.resource)) entry.resource = raw.resource;
  if (typeof raw.assumePkce === 'boolean') entry.assumePkce = raw.assumePkce;
  const parameters = stringPairs(raw.authorizationParameters).filter(([name, value]) => isExtraAuthorizationParameter(name) && !/[\r\n]/.test(value));
  if (parameters.length > 0) entry.authorizationParameters = Object.fromEntries(parameters);
  if (typeof raw.headers === 'object' && raw.headers !== null && !Array.isArray(raw.headers)) {
    const headers = Object.entries(raw.headers as Record<string, unknown>).filter(
      (pair): pair is [string, string] => HEADER_NAME.test(pair[0]) && !RESERVED_HEADERS.has(pair[0].toLowerCase()) && typeof pair[1] === 'string' && !/[\r\n]/.test(pair[1]),
    );
    if (headers.length > 0) entry.headers = Object.fromEntries(headers);
  }
  return entry;
}

export function displayName(entry: ServerEntry): string {
  if (entry.label) return entry.label;
  try {
    const url = new URL(entry.url);
    return `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return entry.url;
  }
}

/** The string-valued members of a settings object; anything else in it is dropped. */
function stringPairs(value: unknown): [string, string][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).filter((pair): pair is [string, string] => typeof pair[1] === 'string');
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
