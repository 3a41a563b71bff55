// Every request the engine makes to a server-supplied URL goes through here: HTTPS unless loopback, no
// destination in a private range unless the MCP server is there too, a timeout, a response size cap, and no
// redirects except bounded, re-checked ones for metadata documents.
import * as oauth from 'oauth4webapi';
import type { AddressClass, DestinationPolicy } from './addresses';
import { KeyringError, toKeyringError } from './errors';
import type { Logger, Network } from './ports';
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
  readonly network: Network;
  readonly logger: Logger;
  readonly timeoutMs?: number;
  /**
   * Plain http to loopback authorization servers (local development). Default true, as RFC 8252 allows. A function
   * is asked at every request, for a setting that may change while the keyring runs.
   */
  readonly allowInsecureLoopback?: boolean | (() => boolean);
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

  async request(url: URL, init: RequestInit, purpose: RequestPurpose, policy: DestinationPolicy): Promise<Response> {
    let target = url;
    for (let hop = 0; ; hop++) {
      this.assertSecure(target, 'a server-supplied');
      const response = await this.send(target, init, purpose, policy);
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
   * may answer with an endless event stream; the body is discarded unread), and the class of the address that
   * answered, which sets the policy for what the server names.
   */
  async probe(url: URL, init: RequestInit): Promise<{ status: number; headers: Headers; addressClass: AddressClass }> {
    this.assertSecure(url, 'the MCP server');
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const { response, addressClass } = await this.options.network.probe(url, { ...init, redirect: 'manual', signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
      await response.body?.cancel();
      return { status: response.status, headers: response.headers, addressClass };
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

  private async send(url: URL, init: RequestInit, purpose: RequestPurpose, policy: DestinationPolicy): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const where = `${purpose} request to ${redactUrl(url)}`;
    try {
      const response = await this.options.network.fetch(url, { ...init, redirect: 'manual', signal }, policy);
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
