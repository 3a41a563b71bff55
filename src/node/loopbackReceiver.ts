// Receives the authorization server's redirect on http://127.0.0.1:<port>/callback (RFC 8252 §7.3): one valid
// callback, then the listener closes. Query values (code, state, error text) never reach the page or the log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import { CallbackWait } from '../core/callbackWait';
import { shortErrorCode } from '../core/errors';
import { systemTimers, type Logger, type RedirectReceiver } from '../core/ports';
import { constantTimeEqual } from './constantTimeEqual';
import { LOOPBACK_HOST, listenOnLoopback } from './listenOnLoopback';

export interface LoopbackReceiverOptions {
  /** 0 or absent: a port the OS picks. A fixed port is for servers that registered one exact redirect URI. */
  port?: number;
  /** Without a fixed port: ports to try first, in order, each skipped when taken (see `SignInContext`). */
  preferredPorts?: readonly number[];
  /** Default `/callback`. */
  path?: string;
  logger: Logger;
  /** How long `waitForCallback` waits for the browser before failing with `timeout`. */
  timeoutMs: number;
}

const DEFAULT_PATH = '/callback';
/** Bounds what a local process could make us hold open before anyone waits for a callback. */
const MOST_PARKED = 8;

interface Waiter {
  expectedState: string;
  resolve(url: URL): void;
}

/** A callback request that arrived before anyone said which state to expect: answered once someone does. */
interface ParkedRequest {
  url: URL;
  response: ServerResponse;
}

export class LoopbackReceiver implements RedirectReceiver {
  private waiter: Waiter | undefined;
  private parked: ParkedRequest[] = [];
  private readonly unfinished = new Set<ServerResponse>();
  private isClosed = false;
  private readonly callbackWait: CallbackWait;

  private constructor(
    private readonly server: Server,
    readonly redirectUri: string,
    private readonly path: string,
    private readonly logger: Logger,
    timeoutMs: number,
  ) {
    this.callbackWait = new CallbackWait({ timers: systemTimers, timeoutMs, logger, logTag: '[loopback]' });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.onRequest(request, response));
    // Without a listener, a late server error (EMFILE on accept…) would crash the whole process.
    server.on('error', (error) => logger.warn(`[loopback] listener error (${shortErrorCode(error)})`));
  }

  /** Resolves once the listener accepts connections, so the browser can be sent to `redirectUri` straight after. */
  static async start(options: LoopbackReceiverOptions): Promise<LoopbackReceiver> {
    const server = createServer();
    const port = options.port ? await listenOnLoopback(server, options.port) : await listenOnFirstFree(server, options.preferredPorts ?? [], options.logger);
    const path = options.path ?? DEFAULT_PATH;
    const redirectUri = new URL(path, `http://${LOOPBACK_HOST}:${port}`).href;
    options.logger.debug(`[loopback] listening on ${LOOPBACK_HOST}:${port}`);
    return new LoopbackReceiver(server, redirectUri, path, options.logger, options.timeoutMs);
  }

  waitForCallback(expectedState: string, signal: AbortSignal): Promise<URL> {
    return this.callbackWait.wait(signal, (deliver) => {
      // Cleared at once, so that of several parked requests carrying the state only the first counts.
      this.waiter = {
        expectedState,
        resolve: (url) => {
          this.waiter = undefined;
          deliver(url);
        },
      };
      const parked = this.parked;
      this.parked = [];
      for (const { url, response } of parked) this.answerCallback(url, response);
      return () => {
        this.waiter = undefined;
        this.close();
      };
    });
  }

  /** Idempotent. A pending `waitForCallback` rejects with `cancelled`. */
  dispose(): void {
    this.callbackWait.dispose();
    this.close();
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    this.unfinished.add(response);
    response.once('close', () => this.unfinished.delete(response));
    const url = new URL(request.url ?? '/', this.redirectUri);
    if (url.pathname !== this.path) return sendPage(response, 404, 'Not found.');
    if (request.method !== 'GET') {
      response.setHeader('Allow', 'GET');
      return sendPage(response, 405, 'Method not allowed.');
    }
    if (this.waiter) this.answerCallback(url, response);
    else if (this.isClosed || this.parked.length >= MOST_PARKED) sendPage(response, 503, 'MCP Keyring is not waiting for this sign-in. Start the sign-in again from MCP Keyring.');
    else {
      this.logger.debug('[loopback] a callback arrived before the sign-in waits for one; holding it');
      this.parked.push({ url, response });
    }
  }

  private answerCallback(url: URL, response: ServerResponse): void {
    const waiter = this.waiter;
    if (!waiter || !isSameState(url.searchParams.get('state'), waiter.expectedState)) {
      this.logger.warn('[loopback] ignored a callback with an unexpected state');
      return sendPage(response, 400, 'This sign-in link is not the one MCP Keyring is waiting for. Start the sign-in again from MCP Keyring.');
    }
    const hasError = url.searchParams.has('error');
    this.logger.info(hasError ? '[loopback] received a callback reporting an error' : '[loopback] received the callback');
    sendPage(response, 200, hasError
      ? 'Sign-in did not complete. Return to MCP Keyring for details; you can close this tab.'
      : 'Sign-in is complete. You can close this tab and return to MCP Keyring.');
    waiter.resolve(url);
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const { response } of this.parked) sendPage(response, 400, 'No sign-in is in progress. Start the sign-in again from MCP Keyring.');
    this.parked = [];
    this.server.close();
    // Let pages already answered reach their browsers, then cut every connection: idle keep-alive and
    // preconnected sockets would otherwise hold the port open and keep the process alive.
    const answering = [...this.unfinished].map((response) => finished(response).catch(() => undefined));
    void Promise.all(answering).then(() => this.server.closeAllConnections());
  }
}

/** The first preferred port free to listen on, else one the OS picks: a taken port is someone else's, never waited for. */
async function listenOnFirstFree(server: Server, preferredPorts: readonly number[], logger: Logger): Promise<number> {
  for (const port of preferredPorts) {
    try {
      return await listenOnLoopback(server, port);
    } catch {
      logger.debug(`[loopback] port ${port} is taken; trying the next`);
    }
  }
  return listenOnLoopback(server, 0);
}

function isSameState(received: string | null, expected: string): boolean {
  return received !== null && constantTimeEqual(received, expected);
}

/**
 * A fixed page: nothing from the request is echoed, and it loads nothing that could leak the URL as a referrer.
 * Every answer closes its connection, so no idle keep-alive socket outlives the listener.
 */
function sendPage(response: ServerResponse, status: number, message: string): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>MCP Keyring</title></head><body><p>${message}</p></body></html>`;
  response.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  response.end(body);
}
