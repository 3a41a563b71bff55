// The editor's connections: Node's http and https modules, which VS Code patches in the extension host to apply the
// person's proxy settings (`http.proxy`, `http.proxySupport`, PAC and system proxies, system certificates:
// @vscode/proxy-agent). Its patched fetch replaces any undici dispatcher it is given, but its patched http(s).request
// keeps the request's `lookup`: a direct connection resolves through the checked lookup, so the address checked is
// the address connected. Through a proxy, the proxy resolves the name and no lookup of ours runs; the lookup just
// before the request (lookupCheckedNetwork) is then the check, and the probe cannot say which address answered.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { classifyAddress } from '../core/addresses';
import type { PlatformNetwork } from '../core/lookupCheckedNetwork';
import { checkedLookup, refusingForbiddenAddresses, systemLookup, type Lookup } from './checkedLookup';

export interface RequestNetworkOptions {
  /** Node's resolver by default. */
  readonly lookup?: Lookup;
}

export function createRequestNetwork(options: RequestNetworkOptions = {}): PlatformNetwork {
  const lookup = options.lookup ?? systemLookup;
  return {
    async fetch(url, init, policy) {
      const { response } = await refusingForbiddenAddresses(url, policy, () => send(url, init, checkedLookup(lookup, policy)));
      return response;
    },
    async probe(url, init) {
      // Our lookup runs only for a connection of our own to a name; a proxy's socket tells nothing of the server.
      let isOwnConnection = false;
      const recording: Lookup = (hostname, lookupOptions, callback) => {
        isOwnConnection = true;
        lookup(hostname, lookupOptions, callback);
      };
      const { response, remoteAddress } = await send(url, init, recording);
      return { response, addressClass: isOwnConnection && remoteAddress ? classifyAddress(remoteAddress) : undefined };
    },
  };
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * One request on a connection of its own: `agent: false` and `connection: close` keep it out of Node's pool, where a
 * socket checked under one policy could serve another. Resolves with the response once its headers arrived.
 */
async function send(url: URL, init: RequestInit, lookup: Lookup): Promise<{ response: Response; remoteAddress?: string }> {
  const { signal } = init;
  signal?.throwIfAborted();
  // Headers and body as fetch would send them (a form body gets its content type).
  const prepared = new Request(url, { method: init.method, headers: init.headers, body: init.body });
  const body = init.body == null ? undefined : Buffer.from(await prepared.arrayBuffer());
  const headers: Record<string, string> = { ...Object.fromEntries(prepared.headers), connection: 'close' };
  if (body) headers['content-length'] = String(body.byteLength);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let answer: http.IncomingMessage | undefined;
    // Ends the request, or the body being read, with the signal's own reason (a TimeoutError for a timeout), as fetch does.
    const abort = () => (answer ?? request).destroy(signal?.reason as Error);
    const request = transport.request(url, { method: prepared.method, headers, lookup, agent: false }, (incoming) => {
      answer = incoming;
      incoming.once('close', () => signal?.removeEventListener('abort', abort));
      resolve({ response: toResponse(incoming), remoteAddress: incoming.socket?.remoteAddress });
    });
    request.once('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(error);
    });
    signal?.addEventListener('abort', abort, { once: true });
    request.end(body);
  });
}

function toResponse(incoming: http.IncomingMessage): Response {
  const headers = new Headers();
  for (let index = 0; index + 1 < incoming.rawHeaders.length; index += 2) headers.append(incoming.rawHeaders[index]!, incoming.rawHeaders[index + 1]!);
  const status = incoming.statusCode ?? 0;
  if (NULL_BODY_STATUSES.has(status)) {
    incoming.resume();
    return new Response(null, { status, statusText: incoming.statusMessage, headers });
  }
  return new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, { status, statusText: incoming.statusMessage, headers });
}
