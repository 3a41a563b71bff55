// URL rules of MCP authorization: the canonical server URL, the well-known metadata locations (RFC 9728,
// RFC 8414, OpenID Discovery), the resource match and the HTTPS requirement.
import { KeyringError } from './errors';
import { classifyAddress, isIpLiteral } from './addresses';

const RESOURCE_METADATA_SUFFIX = '/.well-known/oauth-protected-resource';
const OAUTH_METADATA_SUFFIX = '/.well-known/oauth-authorization-server';
const OPENID_METADATA_SUFFIX = '/.well-known/openid-configuration';

/** Parses a user-supplied MCP server URL: absolute http(s), no credentials, no fragment; https unless loopback. */
export function parseServerUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new KeyringError('usage', 'the server URL is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KeyringError('usage', 'the server URL must use https');
  if (url.username || url.password) throw new KeyringError('usage', 'the server URL must not contain credentials');
  if (url.hash) throw new KeyringError('usage', 'the server URL must not contain a fragment');
  assertSecureUrl(url, 'the MCP server');
  return url;
}

/** The form of a server URL used as a key and as the default resource: no fragment, no trailing slash at the root. */
export function canonicalServerUrl(url: URL): string {
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${path}${url.search}`;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIpLiteral(host) && classifyAddress(host) === 'loopback';
}

/** Plain http is only acceptable where traffic never leaves the machine, and only where the caller allows it there. */
export function assertSecureUrl(url: URL, what: string, allowLoopbackHttp = true): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(url.hostname)) return;
  throw new KeyringError('insecure_url', `${what} URL must use https (${url.origin} does not)`);
}

/** RFC 9728 §3.1: path-aware location first, then the root one (for servers that publish only that). */
export function resourceMetadataUrls(serverUrl: URL): URL[] {
  const root = new URL(RESOURCE_METADATA_SUFFIX, serverUrl.origin);
  const path = trimTrailingSlash(serverUrl.pathname);
  if (!path) return [root];
  return [new URL(`${RESOURCE_METADATA_SUFFIX}${path}`, serverUrl.origin), root];
}

/**
 * Authorization server metadata locations in the order MCP prescribes: RFC 8414 with path insertion, OpenID
 * Discovery with path insertion, OpenID Discovery with path appended; the two root forms for root issuers.
 */
export function authorizationServerMetadataUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = trimTrailingSlash(url.pathname);
  // Set as a path, never resolved as a reference: an issuer path starting with `//` would otherwise name another host.
  const onIssuerOrigin = (pathname: string) => Object.assign(new URL(url.origin), { pathname });
  if (!path) return [onIssuerOrigin(OAUTH_METADATA_SUFFIX), onIssuerOrigin(OPENID_METADATA_SUFFIX)];
  return [
    onIssuerOrigin(`${OAUTH_METADATA_SUFFIX}${path}`),
    onIssuerOrigin(`${OPENID_METADATA_SUFFIX}${path}`),
    onIssuerOrigin(`${path}${OPENID_METADATA_SUFFIX}`),
  ];
}

/**
 * The protected resource metadata's `resource` must identify the server the user asked for: the same origin and
 * either the same path or a parent path ending at a segment boundary (a metadata document for `https://h/` may
 * cover `https://h/mcp`; one for `https://h/mc` may not). Anything else means the document describes another
 * resource and nothing in it may be used.
 */
export function resourceMatchesServer(resource: string, serverUrl: URL): boolean {
  let resourceUrl: URL;
  try {
    resourceUrl = new URL(resource);
  } catch {
    return false;
  }
  if (resourceUrl.hash || resourceUrl.origin !== serverUrl.origin) return false;
  if (resourceUrl.search && resourceUrl.search !== serverUrl.search) return false;
  const resourcePath = trimTrailingSlash(resourceUrl.pathname);
  const serverPath = trimTrailingSlash(serverUrl.pathname);
  return serverPath === resourcePath || serverPath.startsWith(`${resourcePath}/`);
}

function trimTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
