// DPoP (RFC 9449): deciding when to bind tokens to a key, and the proof handles that sign requests with it. A handle
// also remembers the nonces servers hand out (per origin), so one handle per key serves the authorization server and
// the MCP server alike; a request refused for a missing or stale nonce is repeated once with the new one.
import * as oauth from 'oauth4webapi';
import type { Challenge } from './challenge';
import { KeyringError } from './errors';
import type { FetchFn } from './ports';
import { generateDpopKey, importDpopKey } from './signingKeys';

/** A DPoP key as stored (private JWK) and the handle that signs proofs with it. */
export interface DpopBinding {
  readonly jwk: JsonWebKey;
  readonly handle: oauth.DPoPHandle;
}

/** Keys in use by one process; a few per signed-in server at most, so the bound only guards against misuse. */
const MAX_HANDLES = 100;

export class DpopKeys {
  private readonly handles = new Map<string, Promise<oauth.DPoPHandle>>();

  /** A new key for a sign-in that binds its tokens. */
  async create(): Promise<DpopBinding> {
    return this.bindingFor(await generateDpopKey());
  }

  /** The handle for a stored key; the same handle (and its nonces) for every use of one key. */
  async bindingFor(jwk: JsonWebKey): Promise<DpopBinding> {
    const id = `${jwk.x}.${jwk.y}`;
    let handle = this.handles.get(id);
    if (!handle) {
      handle = importDpopKey(jwk).then((keyPair) => oauth.DPoP({}, keyPair));
      handle.catch(() => this.handles.delete(id));
      if (this.handles.size >= MAX_HANDLES) this.handles.delete(this.handles.keys().next().value!);
      this.handles.set(id, handle);
    }
    return { jwk, handle: await handle };
  }
}

/**
 * Whether a sign-in binds its tokens to a key: when asked to, or when the MCP server challenges with the DPoP scheme
 * and the authorization server can verify ES256 proofs (the only algorithm MCP Keyring signs them with).
 */
export function shouldUseDpop(requested: boolean | undefined, challenge: Challenge | undefined, dpopAlgsSupported: unknown): boolean {
  if (requested !== undefined) return requested;
  return challenge?.scheme === 'dpop' && Array.isArray(dpopAlgsSupported) && dpopAlgsSupported.includes('ES256');
}

/** Runs a DPoP-signed exchange, once more if the server asked for a (new) nonce (`use_dpop_nonce`). */
export async function withDpopNonceRetry<T>(binding: DpopBinding | undefined, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (binding && oauth.isDPoPNonceError(error)) return attempt();
    throw error;
  }
}

/**
 * A request to the MCP server with `Authorization: DPoP <token>` and a fresh proof (`htm`, `htu`, `ath`, new `jti`),
 * signed by oauth4webapi. A challenge comes back as the response it arrived in, as for Bearer requests, so the caller
 * decides what a 401 or 403 means; only a nonce demand is answered here, by repeating the request once.
 */
export async function sendWithDpop(fetchImpl: FetchFn, url: URL, init: RequestInit & { method: string }, accessToken: string, binding: DpopBinding): Promise<Response> {
  const body = requestBody(init.body);
  const attempt = () => oauth.protectedResourceRequest(accessToken, init.method, url, new Headers(init.headers), body, {
    DPoP: binding.handle,
    [oauth.customFetch]: (input: string, options: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) => fetchImpl(input, options as RequestInit),
    // The server URL was checked when it was configured (https, or http on loopback).
    [oauth.allowInsecureRequests]: url.protocol === 'http:',
    signal: init.signal ?? undefined,
  });
  try {
    return await withDpopNonceRetry(binding, attempt);
  } catch (error) {
    if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response;
    throw error;
  }
}

function requestBody(body: BodyInit | null | undefined): oauth.ProtectedResourceRequestBody {
  if (body === null || body === undefined || typeof body === 'string' || body instanceof ArrayBuffer || body instanceof Uint8Array || body instanceof ReadableStream || body instanceof URLSearchParams) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new KeyringError('usage', 'a DPoP-signed request body must be text, bytes or a stream');
}
