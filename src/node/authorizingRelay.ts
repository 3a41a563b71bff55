// A loopback relay between the editor's MCP client and remote MCP servers: the editor talks to
// `http://127.0.0.1:<port>/<route id>/…` with a per-window key, and the relay forwards each request with the current
// credential. The editor never gets a 401 or 403 from here (either starts its own OAuth): a credential that cannot be
// had silently looks like an ended MCP session (404), so the editor reconnects through resolveMcpServerDefinition.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { needsInteractiveSignIn, shortErrorCode } from '../core/errors';
import type { FetchFn, Logger } from '../core/ports';
import { constantTimeMatcher } from './constantTimeEqual';
import { LOOPBACK_HOST, listenOnLoopback } from './listenOnLoopback';

/** Where one route's requests go. */
export interface RelayUpstream {
  /** The MCP endpoint: `urlFor(routeId)` stands for exactly this URL. */
  readonly serverUrl: string;
  /** Attaches the credential and answers challenges: `keyring.fetchFor(serverUrl, { interactive: false })`. */
  readonly fetch: FetchFn;
  /** Extra non-secret headers from settings, sent on every request with their names as given. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AuthorizingRelayOptions {
  readonly logger: Logger;
  /** Looked up on every request, so servers added, changed or signed out take effect at once. */
  readonly resolve: (routeId: string) => RelayUpstream | undefined;
  /** 0 or absent: a port the OS picks. */
  readonly port?: number;
}

/** Counts since start, for tests and benchmarks. */
export interface RelayStats {
  /** Requests handed to an upstream fetch. */
  readonly forwarded: number;
  /** Requests refused before any forwarding (key, Host, Origin, route, path): 404. */
  readonly refused: number;
  /** Requests answered 404 because no credential could be had silently or the server still refused it. */
  readonly sessionEnded: number;
  /** Requests answered 502: network failure, foreign redirect, anything unexpected. */
  readonly badGateway: number;
}

const KEY_HEADER = 'x-mcp-keyring-relay-key';
/**
 * Request bodies are buffered because the authorized fetch resends the same body after a refresh or step-up, which a
 * consumed stream cannot do. MCP bodies are JSON-RPC messages, far below this.
 */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024;

/** RFC 9110 §7.6.1 connection-specific fields, plus the de-facto `keep-alive` and `proxy-connection`. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Never forwarded: the relay's own credentials and addressing, anything the upstream fetch sets itself
 * (`authorization`, `dpop`, `content-length`, `accept-encoding` — fetch decodes the body, so encoding is per hop),
 * browser context, and `expect`, which fetch refuses.
 */
const DROPPED_REQUEST_HEADERS = new Set([...HOP_BY_HOP, KEY_HEADER, 'host', 'authorization', 'cookie', 'dpop', 'content-length', 'origin', 'referer', 'accept-encoding', 'expect']);

/**
 * Never passed back: fetch has already decoded the body and the length no longer holds; cookies would be shared by every
 * route on the relay's origin; a challenge is the keyring's business, never the editor's.
 */
const DROPPED_RESPONSE_HEADERS = new Set([...HOP_BY_HOP, 'content-length', 'set-cookie', 'set-cookie2', 'www-authenticate']);

/** The content codings Node's fetch decodes on its own (and asks for by default). */
const DECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** What an MCP server answers for an unknown session (spec: the client then starts a new one). */
const SESSION_ENDED_BODY = JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });

interface RelayTarget {
  routeId: string;
  /** The raw path after the route segment: '' or '/…'. */
  rest: string;
  /** The raw query with its '?', or ''. */
  search: string;
}

type Counter = { -readonly [K in keyof RelayStats]: number };

export class AuthorizingRelay {
  readonly origin: string;
  readonly keyHeader = KEY_HEADER;
  /** 32 random bytes, base64url: the per-window secret the editor's definitions carry in `keyHeader`. */
  readonly key = randomBytes(32).toString('base64url');
  private readonly isKey = constantTimeMatcher(this.key);
  private readonly host: string;
  private readonly inFlight = new Set<AbortController>();
  private readonly counts: Counter = { forwarded: 0, refused: 0, sessionEnded: 0, badGateway: 0 };
  private isDisposed = false;

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly logger: Logger,
    private readonly resolve: (routeId: string) => RelayUpstream | undefined,
  ) {
    this.host = `${LOOPBACK_HOST}:${port}`;
    this.origin = `http://${this.host}`;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      // A throwing `resolve` or fetch must not become an unhandled rejection in the extension host.
      this.onRequest(request, response).catch((error: unknown) => {
        logger.error(`[relay] request handling failed (${shortErrorCode(error)})`);
        response.destroy();
      });
    });
    // Without a listener, a late server error (EMFILE on accept…) would crash the extension host.
    server.on('error', (error) => logger.warn(`[relay] listener error (${shortErrorCode(error)})`));
  }

  /** Resolves once the listener accepts connections. */
  static async start(options: AuthorizingRelayOptions): Promise<AuthorizingRelay> {
    const server = createServer();
    const port = await listenOnLoopback(server, options.port ?? 0);
    options.logger.debug(`[relay] listening on ${LOOPBACK_HOST}:${port}`);
    return new AuthorizingRelay(server, port, options.logger, options.resolve);
  }

  /**
   * The URL to give the editor for a route. `urlFor(id)` maps to the server URL itself; `urlFor(id) + '/extra?q'` to the
   * server URL's path + `/extra` with query `q` (a request without a query keeps the server URL's own query).
   */
  urlFor(routeId: string): string {
    return `${this.origin}/${encodeURIComponent(routeId)}`;
  }

  get stats(): RelayStats {
    return { ...this.counts };
  }

  /** Closes the listener and every connection, and aborts every upstream request in flight. Idempotent. */
  async dispose(): Promise<void> {
    if (this.isDisposed) return;
    this.isDisposed = true;
    for (const controller of this.inFlight) controller.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.logger.debug('[relay] stopped');
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = this.isFromTheEditor(request) ? parseTarget(request.url) : undefined;
    const upstream = target && this.resolve(target.routeId);
    const serverUrl = upstream && URL.canParse(upstream.serverUrl) ? new URL(upstream.serverUrl) : undefined;
    const url = target && serverUrl && upstreamUrl(serverUrl, target);
    if (!target || !upstream || !serverUrl || !url) return this.refuse(request, response);

    const method = request.method ?? 'GET';
    const controller = new AbortController();
    this.inFlight.add(controller);
    // 'close' also follows a completed answer, when there is nothing left to abort (and aborting a finished fetch
    // still costs an exception object); before that it means the editor left.
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
      this.inFlight.delete(controller);
    });
    const context = { routeId: target.routeId, method };
    try {
      const body = await readBody(request, method);
      if (body === 'too large') return this.answer(response, 413, context, 'request_too_large');
      const headers = forwardedHeaders(request.rawHeaders, upstream.headers);
      this.counts.forwarded += 1;
      const answer = await upstream.fetch(url, { method, headers, body, redirect: 'manual', signal: controller.signal });
      await this.relayAnswer(answer, response, controller.signal, { ...context, url, serverUrl, relayBase: this.urlFor(target.routeId) });
    } catch (error) {
      // The editor left or the relay is stopping: nobody is waiting for an answer.
      if (controller.signal.aborted) return;
      if (response.headersSent) {
        this.logger.debug(`[relay] ${context.routeId} ${method} stream ended early (${shortErrorCode(error)})`);
        response.destroy();
        return;
      }
      if (needsInteractiveSignIn(error)) return this.endSession(response, context, error.code);
      this.answer(response, 502, context, shortErrorCode(error));
    }
  }

  /** Loopback is not a boundary: other local processes and web pages (DNS rebinding) can reach this port too. */
  private isFromTheEditor(request: IncomingMessage): boolean {
    const presented = request.headers[KEY_HEADER];
    const origin = request.headers.origin;
    return request.headers.host === this.host
      && (origin === undefined || origin === this.origin)
      && typeof presented === 'string'
      && this.isKey(presented);
  }

  private async relayAnswer(answer: Response, response: ServerResponse, signal: AbortSignal, context: RelayContext): Promise<void> {
    if (answer.status === 401 || answer.status === 403) {
      await answer.body?.cancel();
      return this.endSession(response, context, `http_${answer.status}`);
    }
    const headers = answerHeaders(answer.headers);
    const location = answer.headers.get('location');
    if (REDIRECT_STATUSES.has(answer.status) && location !== null) {
      const relayed = relayLocation(location, context);
      if (relayed === undefined) {
        await answer.body?.cancel();
        return this.answer(response, 502, context, 'foreign_redirect');
      }
      headers.location = relayed;
    }
    response.writeHead(answer.status, headers);
    // Headers go out now: an SSE stream may stay silent for a long time, and the client waits for them.
    response.flushHeaders();
    if (!answer.body || context.method === 'HEAD') {
      await answer.body?.cancel();
      response.end();
      return;
    }
    await relayBody(answer.body, response, signal);
  }

  private refuse(request: IncomingMessage, response: ServerResponse): void {
    this.counts.refused += 1;
    this.logger.debug(`[relay] refused a ${request.method ?? 'GET'} request (key, host, origin or route did not match)`);
    // Nothing is read from the body: close the connection rather than leave it half-read.
    response.writeHead(404, { 'content-length': '0', connection: 'close' }).end();
  }

  private endSession(response: ServerResponse, context: { routeId: string; method: string }, code: string): void {
    this.counts.sessionEnded += 1;
    this.logger.warn(`[relay] ${context.routeId} ${context.method} → 404 (${code}): no credential without sign-in; the editor will reconnect`);
    response.writeHead(404, { 'content-type': 'application/json' }).end(SESSION_ENDED_BODY);
  }

  private answer(response: ServerResponse, status: 413 | 502, context: { routeId: string; method: string }, code: string): void {
    if (status === 502) this.counts.badGateway += 1;
    this.logger.warn(`[relay] ${context.routeId} ${context.method} → ${status} (${code})`);
    response.writeHead(status, { 'content-length': '0', connection: 'close' }).end();
  }
}

interface RelayContext {
  routeId: string;
  method: string;
  /** The upstream URL the request went to. */
  url: URL;
  serverUrl: URL;
  /** `urlFor(routeId)`. */
  relayBase: string;
}


/** Only origin-form targets (`/route/…`); absolute-form (proxy) and `//authority` targets are refused. */
function parseTarget(raw: string | undefined): RelayTarget | undefined {
  if (!raw?.startsWith('/') || raw.startsWith('//')) return undefined;
  const queryAt = raw.indexOf('?');
  const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
  const search = queryAt < 0 ? '' : raw.slice(queryAt);
  const slashAt = path.indexOf('/', 1);
  const segment = slashAt < 0 ? path.slice(1) : path.slice(1, slashAt);
  try {
    const routeId = decodeURIComponent(segment);
    return routeId ? { routeId, rest: slashAt < 0 ? '' : path.slice(slashAt), search } : undefined;
  } catch {
    return undefined;
  }
}

/** The server URL with `rest` appended to its path; undefined when dot segments would climb out of that path. */
function upstreamUrl(serverUrl: URL, target: RelayTarget): URL | undefined {
  const url = new URL(serverUrl);
  if (target.rest) url.pathname = `${serverUrl.pathname.replace(/\/$/, '')}${target.rest}`;
  if (target.search.length > 1) url.search = target.search;
  return pathBelow(serverUrl, url.pathname) === undefined ? undefined : url;
}

/** The part of `pathname` below the server URL's path ('' for the path itself), or undefined when outside it. */
function pathBelow(serverUrl: URL, pathname: string): string | undefined {
  const base = serverUrl.pathname.replace(/\/$/, '');
  if (pathname === base || pathname === serverUrl.pathname) return '';
  return pathname.startsWith(`${base}/`) ? pathname.slice(base.length) : undefined;
}

/** A redirect the editor may follow: only within the server's path on its origin, expressed as a relay URL. */
function relayLocation(location: string, context: RelayContext): string | undefined {
  let target: URL;
  try {
    target = new URL(location, context.url);
  } catch {
    return undefined;
  }
  if (target.origin !== context.serverUrl.origin) return undefined;
  const rest = pathBelow(context.serverUrl, target.pathname);
  return rest === undefined ? undefined : `${context.relayBase}${rest}${target.search}`;
}

/**
 * Chunk by chunk as it arrives, with back-pressure: SSE events reach the editor one by one. Read straight from the
 * web stream rather than through Readable.fromWeb and pipeline, whose adapters cost more than a relayed call's
 * own work (issue #15).
 */
async function relayBody(body: ReadableStream<Uint8Array>, response: ServerResponse, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const stop = () => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!response.write(value)) await drained(response);
    }
    response.end();
  } finally {
    signal.removeEventListener('abort', stop);
    reader.releaseLock();
  }
}

/** Waits until the editor took what was written; rejects if its connection closes first. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      response.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      response.off('drain', onDrain);
      reject(new Error('the editor closed the connection'));
    };
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}

/** The request's body, collected from its events (an async iterator over the request costs more per call). */
function readBody(request: IncomingMessage, method: string): Promise<Uint8Array<ArrayBuffer> | 'too large' | undefined> {
  if (method === 'GET' || method === 'HEAD') {
    request.resume();
    return Promise.resolve(undefined);
  }
  if (Number(request.headers['content-length']) > MAX_REQUEST_BODY_BYTES) return Promise.resolve('too large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        request.off('data', onData);
        request.resume();
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(size === 0 ? undefined : Buffer.concat(chunks)));
    request.once('error', reject);
    // The editor left before the body ended: nobody waits for an answer.
    request.once('close', () => {
      if (!request.complete) reject(new Error('the editor closed the connection before the request body ended'));
    });
  });
}

/**
 * The editor's headers as sent (names keep their case: `rawHeaders`), minus those listed in DROPPED_REQUEST_HEADERS or
 * named by `Connection`, then the configured ones, which win. The upstream fetch sets the one Authorization.
 */
function forwardedHeaders(rawHeaders: readonly string[], configured: Readonly<Record<string, string>> = {}): Headers {
  const named = new Set<string>();
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === 'connection') rawHeaders[index + 1]!.split(',').forEach((name) => named.add(name.trim().toLowerCase()));
  }
  const isForwarded = (name: string): boolean => !DROPPED_REQUEST_HEADERS.has(name.toLowerCase()) && !named.has(name.toLowerCase());
  const headers = new Headers();
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (isForwarded(name)) headers.append(name, rawHeaders[index + 1]!);
  }
  for (const [name, value] of Object.entries(configured)) {
    if (isForwarded(name)) headers.set(name, value);
  }
  return headers;
}

function answerHeaders(upstream: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  const coding = upstream.get('content-encoding')?.trim().toLowerCase();
  for (const [name, value] of upstream) {
    if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
    if (name === 'content-encoding' && coding !== undefined && DECODED_CODINGS.has(coding)) continue;
    headers[name] = value;
  }
  return headers;
}

