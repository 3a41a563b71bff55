// Finds who protects an MCP server and how to talk to it: the challenge, RFC 9728 protected resource metadata,
// then RFC 8414 / OpenID authorization server metadata, with every step recorded for `diagnose`.
import * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import type { Challenge } from './challenge';
import { KeyringError, isKeyringError, isTransient, toKeyringError } from './errors';
import type { HttpClient } from './http';
import type { StoredDiscovery } from './records';
import { redactUrl } from './redact';
import { parseScope } from './scopes';
import { authorizationServerMetadataUrls, canonicalServerUrl, resourceMatchesServer, resourceMetadataUrls } from './urls';

export interface DiscoveryStep {
  readonly url: string;
  readonly status: number | 'error' | 'skipped';
  /** What was learned, or why discovery moved on. */
  readonly outcome: string;
}

export interface Discovery extends StoredDiscovery {
  readonly trace: readonly DiscoveryStep[];
}

interface ResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported?: readonly string[];
}

/** Paths the 2025-03-26 revision prescribes for servers that publish no authorization server metadata. */
const LEGACY_DEFAULT_PATHS = { authorization_endpoint: '/authorize', token_endpoint: '/token', registration_endpoint: '/register' };

export class Discoverer {
  constructor(
    private readonly http: HttpClient,
    private readonly now: () => number,
  ) {}

  /**
   * Runs discovery for `serverUrl`. `challenge` is the Bearer challenge of the 401/403 that started it, if any;
   * when it names a metadata URL, only that URL is tried. Steps are appended to `trace` as they happen, so a
   * caller keeps them even when discovery fails.
   */
  async discover(serverUrl: URL, challenge: Challenge | undefined, policy: DestinationPolicy, signal?: AbortSignal, trace: DiscoveryStep[] = []): Promise<Discovery> {
    const named = challenge?.params.resource_metadata;
    const found = named
      ? await this.findResourceMetadata(serverUrl, [this.parseNamedUrl(named, trace)], (url) => this.fetchNamed(url, policy, trace, signal), trace)
      : await this.findResourceMetadata(serverUrl, resourceMetadataUrls(serverUrl), (url) => this.fetchStep(url, policy, trace, signal), trace);
    if (!found && named) throw new KeyringError('discovery_failed', `the protected resource metadata named by the server (${redactUrl(named)}) is not a valid document`);
    if (found) {
      const authorizationServer = await this.findAuthorizationServer(found.metadata.authorization_servers, policy, trace, signal);
      return {
        serverUrl: canonicalServerUrl(serverUrl),
        resource: found.metadata.resource,
        resourceMetadataUrl: found.url.href,
        resourceScopes: found.metadata.scopes_supported,
        authorizationServer: authorizationServer.metadata,
        metadataSource: authorizationServer.source,
        storedAt: this.now(),
        trace,
      };
    }
    return this.discoverLegacy(serverUrl, policy, trace, signal);
  }

  private parseNamedUrl(named: string, trace: DiscoveryStep[]): URL {
    try {
      const url = new URL(named);
      this.http.assertSecure(url, 'the protected resource metadata');
      return url;
    } catch (error) {
      trace.push({ url: redactUrl(named), status: 'skipped', outcome: 'the challenge named an unusable metadata URL' });
      throw isKeyringError(error) ? error : new KeyringError('discovery_failed', 'the challenge named a resource_metadata value that is not a URL');
    }
  }

  private async findResourceMetadata(serverUrl: URL, candidates: URL[], fetchMetadata: (url: URL) => Promise<Response | undefined>, trace: DiscoveryStep[]) {
    for (const url of candidates) {
      const response = await fetchMetadata(url);
      if (!response) continue;
      const metadata = parseResourceMetadata(await readJson(response));
      if (!metadata) {
        trace.push({ url: redactUrl(url), status: response.status, outcome: 'not a valid protected resource metadata document; trying the next location' });
        continue;
      }
      if (!resourceMatchesServer(metadata.resource, serverUrl)) {
        trace.push({ url: redactUrl(url), status: response.status, outcome: `its resource (${redactUrl(metadata.resource)}) does not match the server; nothing from it is used` });
        throw new KeyringError('resource_mismatch', `the protected resource metadata describes ${redactUrl(metadata.resource)}, not ${canonicalServerUrl(serverUrl)}`);
      }
      trace.push({ url: redactUrl(url), status: response.status, outcome: `resource ${metadata.resource}; authorization servers: ${metadata.authorization_servers.join(', ')}` });
      return { url, metadata };
    }
    return undefined;
  }

  /** The first listed authorization server whose metadata is valid and names itself correctly wins. */
  private async findAuthorizationServer(issuers: readonly string[], policy: DestinationPolicy, trace: DiscoveryStep[], signal?: AbortSignal) {
    let lastError: KeyringError | undefined;
    for (const issuer of issuers) {
      try {
        const found = await this.fetchAuthorizationServerMetadata(issuer, policy, trace, signal);
        if (found) return found;
        lastError = new KeyringError('discovery_failed', `no authorization server metadata found for ${redactUrl(issuer)}`);
      } catch (error) {
        if (!isKeyringError(error) || error.code === 'cancelled') throw error;
        lastError = error;
        trace.push({ url: redactUrl(issuer), status: 'skipped', outcome: `authorization server not usable: ${error.message}` });
      }
    }
    throw lastError ?? new KeyringError('discovery_failed', 'the protected resource metadata lists no authorization server');
  }

  private async fetchAuthorizationServerMetadata(issuer: string, policy: DestinationPolicy, trace: DiscoveryStep[], signal?: AbortSignal) {
    let issuerUrl: URL;
    try {
      issuerUrl = new URL(issuer);
    } catch {
      throw new KeyringError('discovery_failed', 'an authorization server identifier is not a URL');
    }
    this.http.assertSecure(issuerUrl, 'the authorization server');
    let notMetadata: URL | undefined;
    for (const url of authorizationServerMetadataUrls(issuer)) {
      const response = await this.fetchStep(url, policy, trace, signal);
      if (!response) continue;
      // A 200 that is no JSON object (a sign-in page, a catch-all route) is not metadata: the next location may be.
      if (!isJsonObject(await readJson(response))) {
        trace.push({ url: redactUrl(url), status: response.status, outcome: 'not a JSON metadata document; trying the next location' });
        notMetadata ??= url;
        continue;
      }
      const metadata = await processAuthorizationServerMetadata(issuer, response);
      assertUsableAuthorizationServer(metadata, this.http);
      trace.push({ url: redactUrl(url), status: response.status, outcome: `issuer ${metadata.issuer} confirmed` });
      return { metadata, source: url.href };
    }
    if (notMetadata) throw new KeyringError('invalid_response', `the authorization server metadata is not a JSON object (${redactUrl(notMetadata)})`);
    return undefined;
  }

  /** Servers from before RFC 9728: the MCP server's origin is the authorization server, with default paths as a last resort. */
  private async discoverLegacy(serverUrl: URL, policy: DestinationPolicy, trace: DiscoveryStep[], signal?: AbortSignal): Promise<Discovery> {
    const issuer = serverUrl.origin;
    trace.push({ url: issuer, status: 'skipped', outcome: 'no protected resource metadata: treating the server origin as its authorization server' });
    const found = await this.fetchAuthorizationServerMetadata(issuer, policy, trace, signal);
    const metadata = found?.metadata ?? defaultEndpoints(issuer);
    if (!found) trace.push({ url: issuer, status: 'skipped', outcome: 'no authorization server metadata: using /authorize, /token and /register' });
    return {
      serverUrl: canonicalServerUrl(serverUrl),
      resource: canonicalServerUrl(serverUrl),
      authorizationServer: metadata,
      metadataSource: found?.source ?? 'defaults',
      storedAt: this.now(),
      trace,
    };
  }

  /**
   * GETs the one metadata location a challenge named: the server said where its metadata is, so any failure to read
   * it ends discovery with that failure (and no other location is tried).
   */
  private async fetchNamed(url: URL, policy: DestinationPolicy, trace: DiscoveryStep[], signal?: AbortSignal): Promise<Response> {
    const response = await this.getMetadata(url, policy, trace, signal);
    if (response.status !== 200) {
      trace.push({ url: redactUrl(url), status: response.status, outcome: 'the metadata the server named is not there' });
      throw new KeyringError('discovery_failed', `the protected resource metadata named by the server (${redactUrl(url)}) answered HTTP ${response.status}`);
    }
    return response;
  }

  /** GETs one location of a ladder; a missing document or an unreachable host yields undefined so the caller moves on. */
  private async fetchStep(url: URL, policy: DestinationPolicy, trace: DiscoveryStep[], signal?: AbortSignal): Promise<Response | undefined> {
    let response: Response;
    try {
      response = await this.getMetadata(url, policy, trace, signal);
    } catch (error) {
      // Policy refusals and oversized answers are verdicts on the server, not a missing document.
      if (isKeyringError(error) && isTransient(error)) return undefined;
      throw error;
    }
    if (response.status !== 200) {
      trace.push({ url: redactUrl(url), status: response.status, outcome: 'not found here; trying the next location' });
      return undefined;
    }
    return response;
  }

  /** The request itself; a failure is recorded in the trace before it is thrown. */
  private async getMetadata(url: URL, policy: DestinationPolicy, trace: DiscoveryStep[], signal?: AbortSignal): Promise<Response> {
    try {
      return await this.http.request(url, { method: 'GET', headers: { accept: 'application/json' }, signal }, 'metadata', policy);
    } catch (error) {
      const failure = toKeyringError(error, `metadata request to ${redactUrl(url)}`);
      trace.push({ url: redactUrl(url), status: 'error', outcome: failure.message });
      throw failure;
    }
  }
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.clone().json();
  } catch {
    return undefined;
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseResourceMetadata(value: unknown): ResourceMetadata | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.resource !== 'string') return undefined;
  const servers = record.authorization_servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((item) => typeof item === 'string')) return undefined;
  const scopes = record.scopes_supported;
  const validScopes = Array.isArray(scopes) && scopes.every((item) => typeof item === 'string') ? parseScope(scopes.join(' ')) : undefined;
  return { resource: record.resource, authorization_servers: servers, scopes_supported: validScopes };
}

/**
 * Validates an authorization server metadata response. The issuer must equal the expected one by simple string
 * comparison (RFC 8414 §3.3), with one tolerance: an issuer without a path may differ by its trailing slash
 * (`sameRootIssuer`). oauth4webapi's own check compares normalised URLs, so ours runs first.
 */
async function processAuthorizationServerMetadata(expectedIssuer: string, response: Response): Promise<oauth.AuthorizationServer> {
  const body = await readJson(response);
  if (!isJsonObject(body)) throw new KeyringError('invalid_response', 'the authorization server metadata is not a JSON object');
  const issuer = (body as { issuer?: unknown }).issuer;
  if (issuer !== expectedIssuer && !(typeof issuer === 'string' && sameRootIssuer(issuer, expectedIssuer))) {
    throw new KeyringError('issuer_mismatch', `the authorization server metadata names issuer ${quotedIssuer(issuer)} instead of ${quotedIssuer(expectedIssuer)}`);
  }
  try {
    return await oauth.processDiscoveryResponse(new URL(expectedIssuer), response);
  } catch (error) {
    throw toKeyringError(error, 'authorization server metadata');
  }
}

/**
 * `https://host` and `https://host/` are one URI (RFC 3986 §6.2.3) and one origin: Google's MCP servers name
 * `https://accounts.google.com/` as their authorization server while its metadata says `https://accounts.google.com`
 * (github.com/github/copilot-cli/issues/4606, modelcontextprotocol/go-sdk#953). The metadata was fetched from that
 * origin's well-known location, so accepting the other spelling lets no one else speak for the issuer; the metadata's
 * own spelling is what `iss` values are then held to. Issuers with a path stay exact.
 */
function sameRootIssuer(issuer: string, expected: string): boolean {
  const [a, b] = [URL.parse(issuer), URL.parse(expected)];
  if (!a || !b || a.pathname !== '/' || a.search || a.hash || b.search || b.hash || a.origin !== b.origin) return false;
  return issuer.replace(/\/$/, '') === expected.replace(/\/$/, '');
}

/** An issuer as written, quoted so that a trailing slash shows (no query: issuers have none, RFC 8414 §2). */
function quotedIssuer(issuer: unknown): string {
  return typeof issuer === 'string' ? JSON.stringify(issuer.split(/[?#]/, 1)[0]!.slice(0, 200)) : '(none)';
}

const ENDPOINT_FIELDS = ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint'] as const;

/** Refuses metadata that would weaken the flow: endpoints over plain http, or PKCE methods without S256. */
function assertUsableAuthorizationServer(metadata: oauth.AuthorizationServer, http: HttpClient): void {
  for (const field of ENDPOINT_FIELDS) {
    const value = metadata[field];
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new KeyringError('invalid_response', `the authorization server's ${field} is not a URL`);
    }
    http.assertSecure(url, `the authorization server's ${field}`);
  }
  if (!metadata.authorization_endpoint || !metadata.token_endpoint) {
    throw new KeyringError('invalid_response', 'the authorization server metadata lacks an authorization or token endpoint');
  }
  // Metadata that lists PKCE methods without S256 is refused here, always; metadata that lists none is a sign-in's
  // decision (`assertPkceAdvertised`), which a person who knows the server enforces PKCE may override.
  const methods = metadata.code_challenge_methods_supported;
  if (methods !== undefined && !methods.includes('S256')) {
    throw new KeyringError('pkce_unsupported', 'the authorization server does not advertise PKCE with S256, which MCP requires');
  }
}

function defaultEndpoints(issuer: string): oauth.AuthorizationServer {
  return {
    issuer,
    authorization_endpoint: new URL(LEGACY_DEFAULT_PATHS.authorization_endpoint, issuer).href,
    token_endpoint: new URL(LEGACY_DEFAULT_PATHS.token_endpoint, issuer).href,
    registration_endpoint: new URL(LEGACY_DEFAULT_PATHS.registration_endpoint, issuer).href,
    code_challenge_methods_supported: ['S256'],
  };
}
