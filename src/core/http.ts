// Every request the engine makes to a server-supplied URL goes through here: HTTPS unless loopback, no
// destination in a private range unless the MCP server is there too, a timeout, a response size cap, and no
// redirects except bounded, re-checked ones for metadata documents.
import * as oauth from 'oauth4webapi';
import { classifyAddress, isDestinationAllowed, type AddressClass } from './addresses';
import { KeyringError, toKeyringError } from './errors';
import type { FetchFn, Logger, ResolveHost } from './ports';
import { redactUrl } from './redact';
import { assertSecureUrl } from './urls';

export type RequestPurpose = 'metadata' | 'registration' | 'token' | 'revocation';

const KIB = 1024;
export const RESPONSE_LIMITS: Readonly<Record<RequestPurpose, number>> = {
  metadata: 256 * KIB,
  registration: 256 * KIB,
  token: 64 * KIB,
  revocation: 64 * KIB,
};
export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_METADATA_REDIRECTS = 3;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export interface HttpClientOptions {
  readonly fetch: FetchFn;
  readonly resolveHost: ResolveHost;
  readonly logger: Logger;
  readonly timeoutMs?: number;
  /**
   * Plain http to loopback authorization servers (local development). Default true, as RFC 8252 allows. A function
   * is asked at every request, for a setting that may change while the keyring runs.
   */
  readonly allowInsecureLoopback?: boolean | (() => boolean);
}

/** Where the user's MCP server lives decides which non-public destinations its servers may name. */
export interface DestinationPolicy {
  readonly serverAddressClass: AddressClass;
}

export class HttpClient {
  readonly timeoutMs: number;

  constructor(private readonly options: HttpClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The HTTPS rule for every server-supplied URL, including those the browser rather than we will visit. */
  assertSecure(url: URL, what: string): void {
    const allow = this.options.allowInsecureLoopback ?? true;
    assertSecureUrl(url, what, typeof allow === 'function' ? allow() : allow);
  }

  /**
   * The address class of a host the user chose (the MCP server), which sets the policy for everything else. Only a
   * host whose addresses all share one class earns that class; a mixed answer (a public name that also lists a
   * private address) gets the least privilege, `public`.
   */
  async classifyHost(hostname: string): Promise<AddressClass> {
    const classes = new Set((await this.resolve(hostname)).map(classifyAddress));
    return classes.size === 1 ? [...classes][0]! : 'public';
  }

  async request(url: URL, init: RequestInit, purpose: RequestPurpose, policy: DestinationPolicy): Promise<Response> {
    let target = url;
    for (let hop = 0; ; hop++) {
      await this.assertDestination(target, policy);
      const response = await this.send(target, init, purpose);
      const location = response.headers.get('location');
      if (!isRedirect(response.status) || !location) return response;
      if (purpose !== 'metadata' || hop >= MAX_METADATA_REDIRECTS) {
        throw new KeyringError('invalid_response', `the ${purpose} request to ${redactUrl(target)} was redirected, which is not allowed`);
      }
      target = new URL(location, target);
      this.options.logger.debug(`[http] following a metadata redirect to ${redactUrl(target)}`);
    }
  }

  /**
   * Status and headers of a request whose body does not matter (the unauthenticated probe of an MCP server, which
   * may answer with an endless event stream); the body is discarded unread.
   */
  async probe(url: URL, init: RequestInit, policy: DestinationPolicy): Promise<{ status: number; headers: Headers }> {
    await this.assertDestination(url, policy);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.options.fetch(url, { ...init, redirect: 'manual', signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
      await response.body?.cancel();
      return { status: response.status, headers: response.headers };
    } catch (error) {
      throw toKeyringError(error, `request to ${redactUrl(url)}`);
    }
  }

  /** oauth4webapi's `customFetch` hook, so that library requests obey the same rules. */
  oauthFetch(purpose: RequestPurpose, policy: DestinationPolicy): (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response> {
    return (url, init) => this.request(new URL(url), init as RequestInit, purpose, policy);
  }

  /** Options for an oauth4webapi request: our fetch, and http allowed because `request` already enforces HTTPS. */
  oauthOptions(purpose: RequestPurpose, policy: DestinationPolicy, signal?: AbortSignal) {
    return {
      [oauth.customFetch]: this.oauthFetch(purpose, policy),
      [oauth.allowInsecureRequests]: true,
      signal,
    };
  }

  private async assertDestination(url: URL, policy: DestinationPolicy): Promise<void> {
    this.assertSecure(url, 'a server-supplied');
    const addresses = await this.resolve(url.hostname);
    for (const address of addresses) {
      const kind = classifyAddress(address);
      if (!isDestinationAllowed(kind, policy.serverAddressClass)) {
        throw new KeyringError('forbidden_address', `refused to contact ${redactUrl(url)}: it resolves to a ${kind} address and the MCP server is not in that range`);
      }
    }
  }

  private async resolve(hostname: string): Promise<string[]> {
    try {
      const addresses = await this.options.resolveHost(hostname);
      if (addresses.length === 0) throw new KeyringError('network', `no address found for ${hostname}`);
      return addresses;
    } catch (error) {
      throw toKeyringError(error, `looking up ${hostname}`);
    }
  }

  private async send(url: URL, init: RequestInit, purpose: RequestPurpose): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const where = `${purpose} request to ${redactUrl(url)}`;
    try {
      const response = await this.options.fetch(url, { ...init, redirect: 'manual', signal });
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await readCapped(response, RESPONSE_LIMITS[purpose], where);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      throw toKeyringError(error, where);
    }
  }
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** Reads a body up to `limit` bytes; a longer body is cut off and refused rather than buffered. */
async function readCapped(response: Response, limit: number, where: string): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new KeyringError('response_too_large', `${where}: the response is larger than ${limit} bytes`);
  }
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw new KeyringError('response_too_large', `${where}: the response is larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
