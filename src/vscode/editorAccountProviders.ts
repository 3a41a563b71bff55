// Which of the editor's built-in authentication providers holds accounts at an authorization server, and what to ask
// it for. Strict: an issuer matches only by exact origin and path rules (no substring, no glob), because a match lends
// the person's GitHub or Microsoft token to the MCP server whose discovery named that issuer. Free of `vscode`, so the
// rules are unit-tested; `editorAccounts.ts` calls the providers.

/** The providers of VS Code's `github-authentication` and `microsoft-authentication` extensions. */
export type EditorProviderId = 'github' | 'github-enterprise' | 'microsoft';

export interface EditorProviderMatch {
  readonly providerId: EditorProviderId;
  /** The Entra tenant named by the issuer's path (a GUID, a domain, `common`, `organizations`, `consumers`). */
  readonly tenant?: string;
}

/** github.com's OAuth authorization server, as the built-in provider declares it (`authorizationServerGlobs`). */
const GITHUB_ISSUER = 'https://github.com/login/oauth';
const ENTRA_ORIGIN = 'https://login.microsoftonline.com';
/** One path segment naming a tenant: a GUID, a verified domain or one of the multi-tenant aliases. */
const ENTRA_TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
/** Scopes the Microsoft provider adds itself, or drops (it signs in with OpenID Connect and keeps a refresh token). */
const ENTRA_IMPLIED_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/**
 * The provider for an issuer: github.com's exactly; a GitHub Enterprise Server's when it is `<github-enterprise.uri>/login/oauth`
 * (the setting the built-in provider signs in at); Entra's `https://login.microsoftonline.com/<tenant>` with an
 * optional `/v2.0`. Anything else, including look-alikes and extra path segments, queries or fragments, is none.
 */
export function editorProviderFor(issuer: string, githubEnterpriseUri: string | undefined): EditorProviderMatch | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return undefined;
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined;
  const origin = url.origin;
  const path = url.pathname;
  if (issuer === GITHUB_ISSUER) return { providerId: 'github' };
  const enterprise = githubEnterpriseIssuer(githubEnterpriseUri);
  if (enterprise !== undefined && issuer === enterprise) return { providerId: 'github-enterprise' };
  if (origin === ENTRA_ORIGIN && url.protocol === 'https:') {
    const segments = path.split('/').slice(1);
    const isV2 = segments.length === 2 && segments[1] === 'v2.0';
    if ((segments.length === 1 || isV2) && ENTRA_TENANT.test(segments[0]!)) return { providerId: 'microsoft', tenant: segments[0] };
  }
  return undefined;
}

/**
 * The issuer a GitHub Enterprise Server configured in `github-enterprise.uri` signs in at, as the built-in provider
 * declares it (the setting's URI joined with `/login/oauth`); none for github.com itself, which the setting refuses.
 */
export function githubEnterpriseIssuer(githubEnterpriseUri: string | undefined): string | undefined {
  if (!githubEnterpriseUri) return undefined;
  let url: URL;
  try {
    url = new URL(githubEnterpriseUri);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === 'github.com' || url.search !== '' || url.hash !== '') return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/login/oauth`;
}

/**
 * What to ask the provider for. GitHub: the scopes the MCP server asked for, as they are (GitHub scopes). Entra: the
 * server's scopes without those the provider adds itself, the tenant named by the issuer (the provider's
 * `VSCODE_TENANT:` scope), and, when the server named no scope, the resource's `/.default` scope, Entra's way of
 * asking for a token for that API (what RFC 8707's `resource` asks elsewhere, which Entra v2.0 refuses).
 */
export function providerScopes(match: EditorProviderMatch, scopes: readonly string[], resource: string | undefined): string[] {
  if (match.providerId !== 'microsoft') return [...scopes];
  const own = scopes.filter((scope) => !ENTRA_IMPLIED_SCOPES.has(scope));
  const api = own.length > 0 ? own : resource === undefined ? [] : [`${resource.replace(/\/+$/, '')}/.default`];
  return [...api, ...(match.tenant === undefined ? [] : [`VSCODE_TENANT:${match.tenant}`])];
}

/** A credential lent by a provider keeps this client id, so everything that meets it knows where its tokens come from. */
const CLIENT_ID_PREFIX = 'vscode-authentication:';

export function editorClientId(providerId: EditorProviderId): string {
  return `${CLIENT_ID_PREFIX}${providerId}`;
}

/** The provider a credential's client id names, or none for a client of our own. */
export function providerOfClientId(clientId: string): EditorProviderId | undefined {
  return clientId.startsWith(CLIENT_ID_PREFIX) ? editorProviderId(clientId.slice(CLIENT_ID_PREFIX.length)) : undefined;
}

/** An authentication provider's id when it is one whose accounts MCP Keyring may lend, else none. */
export function editorProviderId(id: string): EditorProviderId | undefined {
  return id === 'github' || id === 'github-enterprise' || id === 'microsoft' ? id : undefined;
}
