// A fault-injecting HTTP proxy for the authorization server: it owns the issuer's origin and forwards to the real
// oidc-provider, except that requests to the token endpoint meet the fault currently set.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type Fault =
  | 'connectionRefused'
  | 'resetMidResponse'
  | 'status503'
  | 'stall5s'
  | 'truncatedJson'
  | 'temporarilyUnavailable'
  | 'invalidGrant';

const UPSTREAM_TIMEOUT_MS = 15_000;
const STALL_MS = 5_000;

export interface FaultProxy {
  readonly origin: string;
  /** Sets the fault token requests meet from now on; undefined passes them through. */
  setFault(fault: Fault | undefined): Promise<void>;
  /** Token requests that met a fault so far. */
  readonly faultedRequests: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number, tokenPath: string): Promise<FaultProxy> {
  let fault: Fault | undefined;
  let faultedRequests = 0;
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const isTokenRequest = new URL(request.url ?? '/', 'http://proxy').pathname === tokenPath;
    if (!isTokenRequest || !fault) return forward(request, response, upstreamPort, 'pass');
    faultedRequests++;
    return inject(fault, request, response, upstreamPort);
  };
  let server = await listen(handler, 0);
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    get faultedRequests() {
      return faultedRequests;
    },
    async setFault(next) {
      // Refusing connections means nobody listens on the port; everything else needs the listener.
      if (next === 'connectionRefused' && server.listening) await closeServer(server);
      if (next !== 'connectionRefused' && !server.listening) server = await listen(handler, port);
      fault = next;
    },
    close: () => (server.listening ? closeServer(server) : Promise.resolve()),
  };
}

async function inject(fault: Fault, request: IncomingMessage, response: ServerResponse, upstreamPort: number): Promise<void> {
  switch (fault) {
    case 'status503':
      request.resume();
      response.writeHead(503, { 'content-type': 'text/html' }).end('<h1>503 Service Unavailable</h1>');
      return;
    case 'temporarilyUnavailable':
      request.resume();
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'temporarily_unavailable' }));
      return;
    case 'invalidGrant':
      request.resume();
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }));
      return;
    case 'stall5s':
      await delay(STALL_MS);
      return forward(request, response, upstreamPort, 'pass');
    case 'resetMidResponse':
      return forward(request, response, upstreamPort, 'reset');
    case 'truncatedJson':
      return forward(request, response, upstreamPort, 'truncate');
    case 'connectionRefused':
      // Only reached by a connection accepted just before the listener closed.
      response.socket?.destroy();
      return;
  }
}

/** Forwards to the real server; 'reset' and 'truncate' deliver only the first half of its answer. */
function forward(request: IncomingMessage, response: ServerResponse, upstreamPort: number, mode: 'pass' | 'reset' | 'truncate'): Promise<void> {
  return new Promise((resolve) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: request.method, path: request.url, headers: request.headers, timeout: UPSTREAM_TIMEOUT_MS }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        const half = body.subarray(0, Math.floor(body.length / 2));
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        if (mode === 'reset') {
          response.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(body.length) });
          response.write(half, () => response.socket?.resetAndDestroy());
        } else {
          const sent = mode === 'truncate' ? half : body;
          response.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(sent.length) }).end(sent);
        }
        resolve();
      });
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502).end();
      resolve();
    });
    request.pipe(upstream);
  });
}

function listen(handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>, port: number): Promise<Server> {
  const server = createServer((request, response) => void handler(request, response));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
