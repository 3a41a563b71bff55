// The authorizing relay with the official MCP client playing the editor: a real authorization server issuing 3-second
// tokens, SDK servers of both protocol revisions, and recording servers standing in for hostile or odd upstreams.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { KeyringError, type ErrorCode } from '../../src/core/errors';
import type { Keyring } from '../../src/core/keyring';
import type { FetchFn, Logger } from '../../src/core/ports';
import { AuthorizingRelay, MAX_REQUEST_BODY_BYTES, type RelayUpstream } from '../../src/node/authorizingRelay';
import { FileStore } from '../../src/node/fileStore';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { listenOnLoopback, type LoopbackServer } from '../fixtures/listenOnLoopback';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { readBody } from '../fixtures/readBody';
import { deferred } from '../unit/core/fakes';
import { createTestBrowser } from '../fixtures/testBrowser';
import { createTestKeyring } from './testKeyring';

const TOKEN_LIFETIME_SECONDS = 3;
/** Long enough for at least three refreshes of 3-second tokens (refresh falls due halfway through their life). */
const SOAK_MS = 9_000;
const CALL_INTERVAL_MS = 100;
/** What the keyring's fetch would attach; stands in for it in front of servers that do not check tokens. */
const RELAY_TOKEN = 'Bearer token-from-the-keyring';

/** Every line the relay logged, to check that no secret, header or query ever lands there. */
const logLines: string[] = [];
const logger: Logger = {
  debug: (line) => logLines.push(line),
  info: (line) => logLines.push(line),
  warn: (line) => logLines.push(line),
  error: (line) => logLines.push(line),
};

interface Exchange {
  method: string;
  status: number;
  contentType: string | null;
  isInitialize: boolean;
}

/** The official client as the editor uses it: the relay URL, the key in `requestInit.headers`, revision negotiated. */
interface Editor {
  readonly client: Client;
  transport: StreamableHTTPClientTransport;
  /** Every HTTP exchange the client made, as it saw them. */
  readonly exchanges: Exchange[];
  /** How many GET (server-to-client) SSE streams are open right now. */
  readonly openStreams: number;
  connect(): Promise<void>;
  echo(text: string): Promise<string>;
}

function createEditor(relay: AuthorizingRelay, routeId: string): Editor {
  const exchanges: Exchange[] = [];
  let openStreams = 0;
  const recordingFetch: FetchFn = async (input, init) => {
    const response = await fetch(input, init);
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? init.body : '';
    exchanges.push({ method, status: response.status, contentType: response.headers.get('content-type'), isInitialize: body.includes('"method":"initialize"') });
    if (method !== 'GET' || !response.ok || !response.body) return response;
    openStreams += 1;
    return new Response(untilEnd(response.body, () => (openStreams -= 1)), response);
  };
  const client = new Client({ name: 'relay-test-editor', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  const newTransport = () => new StreamableHTTPClientTransport(new URL(relay.urlFor(routeId)), {
    fetch: recordingFetch,
    requestInit: { headers: { [relay.keyHeader]: relay.key } },
  });
  const editor: Editor = {
    client,
    transport: newTransport(),
    exchanges,
    get openStreams() { return openStreams; },
    connect: async () => {
      editor.transport = newTransport();
      await client.connect(editor.transport, { timeout: 10_000 });
    },
    echo: async (text) => {
      const result = await client.callTool({ name: 'echo', arguments: { text } }, { timeout: 10_000 });
      return (result.content as { type: string; text: string }[])[0]!.text;
    },
  };
  return editor;
}

/** Passes a body through, calling `onEnd` once when it finishes, fails or is cancelled. */
function untilEnd(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let hasEnded = false;
  const end = () => {
    if (!hasEnded) onEnd();
    hasEnded = true;
  };
  return new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel: (reason) => {
      end();
      return reader.cancel(reason);
    },
  });
}

interface RecordedRequest {
  method: string;
  url: string;
  /** As received, names in the case they were sent. */
  rawHeaders: string[];
  body: string;
}

/** An upstream that records every request with its raw headers and answers as the test says. */
interface RecordingUpstream {
  readonly origin: string;
  readonly requests: RecordedRequest[];
  answer: (request: RecordedRequest, response: ServerResponse, incoming: IncomingMessage) => void | Promise<void>;
  close(): Promise<void>;
}

async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const listener: LoopbackServer = await listenOnLoopback();
  const upstream: RecordingUpstream = {
    origin: listener.origin,
    requests: [],
    answer: (_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'); },
    close: () => listener.close(),
  };
  listener.serve(async (incoming, response) => {
    const recorded = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', rawHeaders: incoming.rawHeaders, body: await readBody(incoming) };
    upstream.requests.push(recorded);
    await upstream.answer(recorded, response, incoming);
  });
  return upstream;
}

/** Attaches a token the way `keyring.fetchFor` does, for upstreams that do not check it. */
const fetchWithToken: FetchFn = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', RELAY_TOKEN);
  return fetch(input, { ...init, headers });
};

interface RawAnswer {
  status: number;
  body: string;
}

/** node:http rather than fetch, so a test can send any Host and any request target. */
function rawRequest(port: number, options: { method?: string; path: string; headers: Record<string, string>; body?: string }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path, headers: options.headers, setHost: false, agent: false }, (incoming) => {
      void readBody(incoming).then((body) => resolve({ status: incoming.statusCode ?? 0, body }), reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === name.toLowerCase()) values.push(rawHeaders[index + 1]!);
  }
  return values;
}

function headerNames(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_value, index) => index % 2 === 0);
}

describe('the authorizing relay', function () {
  let as: AuthorizationServer;
  const mcp = {} as Record<'v1' | 'v2', McpServer>;
  const storeDirectories: string[] = [];

  /** A keyring over a fresh store, signed in to `serverUrl` when one is given. */
  async function newKeyring(serverUrl?: string): Promise<{ keyring: Keyring; directory: string }> {
    const directory = await mkdtemp(join(tmpdir(), 'mcp-keyring-relay-'));
    storeDirectories.push(directory);
    const keyring = await createTestKeyring(directory, createTestBrowser());
    if (serverUrl) await keyring.signIn(serverUrl);
    return { keyring, directory };
  }

  before(async function () {
    as = await startAuthorizationServer({ accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS });
    mcp.v1 = await startMcpServer({ shape: 'path-metadata', authorizationServer: as, sdk: 'v1' });
    mcp.v2 = await startMcpServer({ shape: 'path-metadata', authorizationServer: as, sdk: 'v2' });
  });
  after(async function () {
    await mcp.v1.close();
    await mcp.v2.close();
    await as.close();
    await Promise.all(storeDirectories.map((directory) => rm(directory, { recursive: true, force: true })));
  });

  for (const sdk of ['v1', 'v2'] as const) {
    it(`keeps the editor's connection through token refreshes without a 401, a failed call or a new session (SDK ${sdk})`, async function () {
      const server = mcp[sdk];
      const { keyring } = await newKeyring(server.url);
      const relay = await AuthorizingRelay.start({ logger, resolve: (id) => (id === 'server' ? { serverUrl: server.url, fetch: keyring.fetchFor(server.url, { interactive: false }) } : undefined) });
      const editor = createEditor(relay, 'server');
      try {
        await editor.connect();
        const sessionId = editor.transport.sessionId;
        const tokensSeen = server.seenTokens.length;
        const refusedAtServer = server.unauthorizedCount;
        const tokenRequests = as.requestCount('token');
        const calls: Promise<string>[] = [];
        for (const started = Date.now(); Date.now() - started < SOAK_MS; await delay(CALL_INTERVAL_MS)) {
          calls.push(editor.echo(`call ${calls.length}`));
        }
        const outcomes = await Promise.allSettled(calls);
        const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
        const refreshes = as.requestCount('token') - tokenRequests;
        const distinctTokens = new Set(server.seenTokens.slice(tokensSeen)).size;
        console.log(`      ${calls.length} calls, ${failures.length} failed, ${refreshes} refreshes, ${distinctTokens} distinct tokens at the server, ${server.unauthorizedCount - refusedAtServer} 401s absorbed, ${relay.stats.forwarded} requests relayed, statuses the editor saw: ${[...new Set(editor.exchanges.map((exchange) => exchange.status))].join(' ')}`);

        assert.equal(failures.length, 0, `failed calls: ${failures.map((failure) => String(failure.reason)).join('; ')}`);
        outcomes.forEach((outcome, index) => assert.deepEqual(outcome, { status: 'fulfilled', value: `call ${index}` }));
        // The pace slips on a loaded machine; what matters is that calls kept coming across several refreshes.
        assert.ok(calls.length >= 30, `only ${calls.length} calls were made`);
        assert.ok(refreshes >= 3, `only ${refreshes} refreshes happened`);
        assert.ok(distinctTokens >= 4, `the server saw only ${distinctTokens} tokens`);
        assert.deepEqual(editor.exchanges.filter((exchange) => exchange.status === 401 || exchange.status === 403 || exchange.status >= 404), []);
        // Revision 2026-07-28 has no initialize; 2025-11-25 has exactly one per session.
        assert.equal(editor.exchanges.filter((exchange) => exchange.isInitialize).length, sdk === 'v1' ? 1 : 0, 'the editor never initialized again');
        assert.equal(editor.transport.sessionId, sessionId);
        if (sdk === 'v1') {
          assert.ok(sessionId, 'the stateful server gave a session');
          assert.ok(editor.exchanges.some((exchange) => exchange.method === 'POST' && exchange.contentType?.startsWith('text/event-stream')), 'POST answers came as SSE');
          assert.equal(editor.openStreams, 1, "the server's GET stream stayed open through the relay");
        } else {
          assert.equal(editor.client.getNegotiatedProtocolVersion(), '2026-07-28');
        }
        assert.equal(relay.stats.sessionEnded + relay.stats.badGateway, 0);
      } finally {
        await editor.client.close();
        await relay.dispose();
      }
    });
  }

  it('replays the buffered request with a refreshed token when the server refuses the stored one, unseen by the editor', async function () {
    const { keyring, directory } = await newKeyring(mcp.v1.url);
    const relay = await AuthorizingRelay.start({ logger, resolve: () => ({ serverUrl: mcp.v1.url, fetch: keyring.fetchFor(mcp.v1.url, { interactive: false }) }) });
    const editor = createEditor(relay, 'server');
    try {
      await editor.connect();
      // The server forgets the token (as after a key rotation); the grant itself stays valid.
      const store = await FileStore.open(directory);
      const [key] = await store.keys('credential/');
      const record = JSON.parse((await store.get(key!))!) as { accessToken: string };
      await store.set(key!, JSON.stringify({ ...record, accessToken: 'a-token-the-server-does-not-know' }));
      const refusedBefore = mcp.v1.unauthorizedCount;
      assert.equal(await editor.echo('after a refused token'), 'after a refused token');
      assert.equal(mcp.v1.unauthorizedCount, refusedBefore + 1, 'the server refused the stale token once');
      assert.deepEqual(editor.exchanges.filter((exchange) => exchange.status === 401 || exchange.status === 403 || exchange.status >= 404), []);
    } finally {
      await editor.client.close();
      await relay.dispose();
    }
  });

  it('ends the session with 404 when a tool needs more scope, reporting the step-up scopes for the editor to sign in with', async function () {
    const { keyring } = await newKeyring(mcp.v1.url);
    const needed: (readonly string[] | undefined)[] = [];
    const relay = await AuthorizingRelay.start({
      logger,
      resolve: () => ({ serverUrl: mcp.v1.url, fetch: keyring.fetchFor(mcp.v1.url, { interactive: false, onSignInNeeded: (scopes) => needed.push(scopes) }) }),
    });
    const editor = createEditor(relay, 'server');
    try {
      await editor.connect();
      await assert.rejects(editor.client.callTool({ name: 'admin_action', arguments: {} }, { timeout: 10_000 }));
      assert.ok(editor.exchanges.some((exchange) => exchange.status === 404), 'the editor was told the session ended');
      assert.deepEqual(editor.exchanges.filter((exchange) => exchange.status === 401 || exchange.status === 403), []);
      assert.equal(needed.length, 1);
      assert.ok(needed[0]?.includes('mcp:admin') && needed[0].includes('mcp:read'), `step-up scopes: ${needed[0]?.join(' ')}`);
    } finally {
      await editor.client.close();
      await relay.dispose();
    }
  });

  it('answers 404, never 401, while not signed in, and the same client reconnects once the user has signed in', async function () {
    const { keyring } = await newKeyring();
    const relay = await AuthorizingRelay.start({ logger, resolve: () => ({ serverUrl: mcp.v1.url, fetch: keyring.fetchFor(mcp.v1.url, { interactive: false }) }) });
    const editor = createEditor(relay, 'server');
    try {
      await assert.rejects(editor.connect());
      // Version negotiation tries the 2026 revision first, then 2025's initialize: both end as a lost session.
      assert.ok(editor.exchanges.length > 0);
      assert.deepEqual(new Set(editor.exchanges.map((exchange) => exchange.status)), new Set([404]));
      assert.equal(relay.stats.sessionEnded, editor.exchanges.length);
      assert.ok(logLines.some((line) => line.includes('server POST → 404 (unauthorized)')), 'the 404 was logged with its reason');

      await keyring.signIn(mcp.v1.url);
      await editor.connect();
      assert.equal(await editor.echo('signed in now'), 'signed in now');
      assert.ok(editor.transport.sessionId, 'a new session was started');
      assert.deepEqual(editor.exchanges.filter((exchange) => exchange.status === 401 || exchange.status === 403), []);
      console.log(`      statuses seen by the editor: ${editor.exchanges.map((exchange) => exchange.status).join(' ')}`);
    } finally {
      await editor.client.close();
      await relay.dispose();
    }
  });

  describe('with recording upstreams', function () {
    let upstream: RecordingUpstream;
    let elsewhere: RecordingUpstream;
    let relay: AuthorizingRelay;
    const routes = new Map<string, RelayUpstream>();
    let port: number;

    before(async function () {
      upstream = await startRecordingUpstream();
      elsewhere = await startRecordingUpstream();
      relay = await AuthorizingRelay.start({ logger, resolve: (id) => routes.get(id) });
      port = Number(new URL(relay.origin).port);
      routes.set('recorder', { serverUrl: `${upstream.origin}/mcp`, fetch: fetchWithToken, headers: { 'X-Tenant-ID': 'acme', 'X-Api-Version': '7' } });
    });
    after(async function () {
      await relay.dispose();
      await upstream.close();
      await elsewhere.close();
    });
    beforeEach(function () {
      upstream.answer = (_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'); };
    });

    const refusals: { name: string; path?: string; headers: (relay: AuthorizingRelay) => Record<string, string> }[] = [
      { name: 'no key', headers: (r) => ({ host: hostOf(r) }) },
      { name: 'a wrong key of the same length', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: `${r.key.slice(0, -1)}${r.key.endsWith('A') ? 'B' : 'A'}` }) },
      { name: 'a wrong key of another length', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: 'short' }) },
      { name: 'the key twice', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: `${r.key}, ${r.key}` }) },
      { name: 'Host localhost (DNS rebinding)', headers: (r) => ({ host: `localhost:${new URL(r.origin).port}`, [r.keyHeader]: r.key }) },
      { name: 'a foreign Host', headers: (r) => ({ host: 'attacker.example', [r.keyHeader]: r.key }) },
      { name: 'a foreign Origin', headers: (r) => ({ host: hostOf(r), origin: 'http://attacker.example', [r.keyHeader]: r.key }) },
      { name: 'Origin null', headers: (r) => ({ host: hostOf(r), origin: 'null', [r.keyHeader]: r.key }) },
      { name: 'an unknown route', path: '/no-such-route', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: r.key }) },
      { name: 'a path climbing out of the server path', path: '/recorder/../../admin', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: r.key }) },
      { name: 'an encoded path climbing out', path: '/recorder/%2e%2e/admin', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: r.key }) },
      { name: 'an absolute-form (proxy) target', path: 'http://127.0.0.1/recorder', headers: (r) => ({ host: hostOf(r), [r.keyHeader]: r.key }) },
    ];
    for (const refusal of refusals) {
      it(`answers 404 and forwards nothing for ${refusal.name}`, async function () {
        const before = upstream.requests.length;
        const answer = await rawRequest(port, { path: refusal.path ?? '/recorder', headers: { 'content-type': 'application/json', ...refusal.headers(relay) }, body: '{}' });
        assert.equal(answer.status, 404);
        assert.equal(answer.body, '');
        assert.equal(upstream.requests.length, before);
      });
    }

    it('forwards a request with the right key, its own Origin and a mapped path and query', async function () {
      const answer = await rawRequest(port, { path: '/recorder/extra/path?q=1&r=two', headers: { host: hostOf(relay), origin: relay.origin, [relay.keyHeader]: relay.key, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0"}' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, '{"ok":true}');
      const forwarded = upstream.requests.at(-1)!;
      assert.equal(forwarded.url, '/mcp/extra/path?q=1&r=two');
      assert.equal(forwarded.body, '{"jsonrpc":"2.0"}');
      await rawRequest(port, { method: 'DELETE', path: '/recorder', headers: { host: hostOf(relay), [relay.keyHeader]: relay.key } });
      assert.deepEqual([upstream.requests.at(-1)!.method, upstream.requests.at(-1)!.url], ['DELETE', '/mcp']);
    });

    it('never forwards the key or the editor\'s Authorization, Cookie or DPoP, sends one Authorization, and keeps header names as given', async function () {
      // 'plain' has no credential to attach, so whatever Authorization arrived there would be the editor's.
      routes.set('plain', { serverUrl: `${upstream.origin}/mcp`, fetch: (input, init) => fetch(input, init) });
      for (const [routeId, authorization] of [['recorder', [RELAY_TOKEN]], ['plain', []]] as const) {
        await rawRequest(port, {
          path: `/${routeId}`,
          headers: {
            host: hostOf(relay),
            [relay.keyHeader]: relay.key,
            Authorization: 'Bearer editor-supplied',
            Cookie: 'session=editor',
            DPoP: 'editor-proof',
            Referer: 'http://127.0.0.1/somewhere',
            'Mcp-Session-Id': 'session-1',
            'X-Custom-Header': 'kept',
            'content-type': 'application/json',
          },
          body: '{}',
        });
        const { rawHeaders } = upstream.requests.at(-1)!;
        assert.ok(!rawHeaders.some((value) => value.includes(relay.key)), 'the key reached the server');
        assert.deepEqual(headerValues(rawHeaders, 'authorization'), authorization);
        for (const name of [relay.keyHeader, 'cookie', 'dpop', 'referer', 'origin']) assert.deepEqual(headerValues(rawHeaders, name), [], `${name} was forwarded`);
        const names = headerNames(rawHeaders);
        for (const name of ['Mcp-Session-Id', 'X-Custom-Header']) assert.ok(names.includes(name), `${name} did not arrive as written`);
      }
      const { rawHeaders } = upstream.requests.at(-2)!;
      for (const name of ['X-Tenant-ID', 'X-Api-Version']) assert.ok(headerNames(rawHeaders).includes(name), `configured ${name} did not arrive as written`);
      assert.deepEqual(headerValues(rawHeaders, 'x-tenant-id'), ['acme']);
    });

    it('streams Server-Sent Events event by event, for a long-lived GET and for a POST answer', async function () {
      const sentAt: number[] = [];
      upstream.answer = async (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (let index = 0; index < 6; index += 1) {
          await delay(150);
          sentAt[index] = Date.now();
          response.write(`id: ${index}\ndata: {"n":${index}}\n\n`);
        }
        response.end();
      };
      for (const method of ['GET', 'POST']) {
        const response = await fetch(`${relay.urlFor('recorder')}/events`, { method, headers: { [relay.keyHeader]: relay.key, accept: 'text/event-stream' }, body: method === 'POST' ? '{}' : undefined });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'text/event-stream');
        const arrivedAt: number[] = [];
        const decoder = new TextDecoder();
        let text = '';
        for await (const chunk of response.body!) {
          text += decoder.decode(chunk, { stream: true });
          const events = text.split('\n\n').length - 1;
          while (arrivedAt.length < events) arrivedAt.push(Date.now());
        }
        assert.equal(arrivedAt.length, 6);
        // Each event is at the client before the next one has even been written upstream.
        for (let index = 0; index < 5; index += 1) assert.ok(arrivedAt[index]! < sentAt[index + 1]!, `${method}: event ${index} was held back`);
      }
    });

    it('passes back a redirect within the server path as a relay URL, and answers 502 for one to another origin without sending anything there', async function () {
      upstream.answer = (_request, response) => { response.writeHead(307, { location: `${upstream.origin}/mcp/moved?x=1` }).end(); };
      const headers = { [relay.keyHeader]: relay.key };
      const within = await fetch(relay.urlFor('recorder'), { method: 'POST', headers, body: '{}', redirect: 'manual' });
      assert.equal(within.status, 307);
      assert.equal(within.headers.get('location'), `${relay.urlFor('recorder')}/moved?x=1`);

      for (const location of [`${elsewhere.origin}/mcp`, '//attacker.example/mcp', `${upstream.origin}/admin`]) {
        upstream.answer = (_request, response) => { response.writeHead(302, { location }).end(); };
        const answer = await fetch(relay.urlFor('recorder'), { method: 'POST', headers, body: '{}', redirect: 'manual' });
        assert.equal(answer.status, 502, location);
      }
      assert.equal(elsewhere.requests.length, 0, 'the other origin received a request');
    });

    it('answers 404 when the server still refuses with 401 or 403, and 502 when it cannot be reached', async function () {
      const headers = { [relay.keyHeader]: relay.key };
      for (const status of [401, 403]) {
        upstream.answer = (_request, response) => { response.writeHead(status, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(); };
        const answer = await fetch(relay.urlFor('recorder'), { method: 'POST', headers, body: '{}' });
        assert.equal(answer.status, 404);
        assert.equal(answer.headers.get('www-authenticate'), null);
      }
      const closed = await listenOnLoopback();
      await closed.close();
      routes.set('gone', { serverUrl: `${closed.origin}/mcp`, fetch: fetchWithToken });
      const answer = await fetch(relay.urlFor('gone'), { method: 'POST', headers, body: '{}' });
      assert.equal(answer.status, 502);
      assert.ok(logLines.some((line) => line.includes('gone POST → 502 (ECONNREFUSED)')));
    });

    const credentialFailures: { code: ErrorCode; status: number }[] = [
      ...(['not_signed_in', 'needs_sign_in', 'unauthorized', 'insufficient_scope', 'step_up_exhausted'] as const).map((code) => ({ code, status: 404 })),
      ...(['network', 'timeout', 'server_unavailable'] as const).map((code) => ({ code, status: 502 })),
    ];
    for (const { code, status } of credentialFailures) {
      it(`answers ${status} when the keyring's fetch fails with ${code}`, async function () {
        routes.set('failing', { serverUrl: `${upstream.origin}/mcp`, fetch: () => Promise.reject(new KeyringError(code, 'no')) });
        const answer = await fetch(relay.urlFor('failing'), { method: 'POST', headers: { [relay.keyHeader]: relay.key }, body: '{}' });
        assert.equal(answer.status, status);
        assert.ok(logLines.at(-1)?.includes(`failing POST → ${status} (${code})`));
      });
    }

    it('aborts the upstream request when the editor goes away mid-stream', async function () {
      const upstreamClosed = deferred();
      upstream.answer = async (_request, response) => {
        response.once('close', () => upstreamClosed.resolve());
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        while (!response.destroyed) {
          response.write('data: tick\n\n');
          await delay(50);
        }
      };
      const editorLeaves = new AbortController();
      const response = await fetch(relay.urlFor('recorder'), { headers: { [relay.keyHeader]: relay.key }, signal: editorLeaves.signal });
      const reader = response.body!.getReader();
      assert.equal((await reader.read()).done, false);
      editorLeaves.abort();
      await upstreamClosed.promise;
    });

    it('hands the editor a body that fetch decoded, without the stale encoding headers', async function () {
      upstream.answer = (_request, response) => {
        const body = gzipSync('{"jsonrpc":"2.0","result":{},"id":1}');
        response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(body.length) }).end(body);
      };
      const answer = await rawRequest(port, { path: '/recorder', headers: { host: hostOf(relay), [relay.keyHeader]: relay.key }, body: '{}' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, '{"jsonrpc":"2.0","result":{},"id":1}');
    });

    it('refuses a request body over the cap with 413 before reading it', async function () {
      const before = upstream.requests.length;
      const head = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(`POST /recorder HTTP/1.1\r\nHost: ${hostOf(relay)}\r\n${relay.keyHeader}: ${relay.key}\r\nContent-Length: ${MAX_REQUEST_BODY_BYTES + 1}\r\n\r\n`);
        });
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
      assert.match(head, /^HTTP\/1\.1 413 /);
      assert.equal(upstream.requests.length, before);
    });

    it('logs no key, token, header or query for the requests it forwards, fails or refuses', async function () {
      const from = logLines.length;
      const headers = { host: hostOf(relay), [relay.keyHeader]: relay.key, authorization: 'Bearer editor-supplied', cookie: 'session=editor-cookie', 'content-type': 'application/json' };
      routes.set('failing', { serverUrl: `${upstream.origin}/mcp`, fetch: () => Promise.reject(new KeyringError('network', 'no')) });
      assert.equal((await rawRequest(port, { path: '/recorder/path?q=1', headers, body: '{}' })).status, 200);
      assert.equal((await rawRequest(port, { path: '/failing/path?q=1', headers, body: '{}' })).status, 502);
      assert.equal((await rawRequest(port, { path: '/recorder?q=1', headers: { ...headers, [relay.keyHeader]: `${relay.key}x` }, body: '{}' })).status, 404);
      const lines = logLines.slice(from);
      assert.ok(lines.some((line) => line.includes('failing POST → 502 (network)')), `the relay did not log these requests: ${lines.join(' | ')}`);
      const log = lines.join('\n');
      for (const secret of [relay.key, 'token-from-the-keyring', 'editor-supplied', 'editor-cookie', 'q=1', 'acme']) {
        assert.ok(!log.includes(secret), `${secret === relay.key ? 'the relay key' : secret} reached the log`);
      }
    });
  });

  it('frees its port on dispose, ending open streams and aborting the upstream requests', async function () {
    const upstream = await startRecordingUpstream();
    const upstreamClosed = deferred();
    upstream.answer = async (_request, response) => {
      response.once('close', () => upstreamClosed.resolve());
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      while (!response.destroyed) {
        response.write('data: tick\n\n');
        await delay(50);
      }
    };
    const relay = await AuthorizingRelay.start({ logger, resolve: () => ({ serverUrl: `${upstream.origin}/mcp`, fetch: fetchWithToken }) });
    const port = Number(new URL(relay.origin).port);
    try {
      const response = await fetch(relay.urlFor('stream'), { headers: { [relay.keyHeader]: relay.key } });
      const reader = response.body!.getReader();
      assert.equal((await reader.read()).done, false);
      await relay.dispose();
      await assert.rejects(async () => {
        for (;;) if ((await reader.read()).done) throw new Error('ended');
      });
      // The upstream request was aborted: its response closes (the test's timeout says if it never does).
      await upstreamClosed.promise;
      await assert.rejects(fetch(relay.urlFor('stream'), { headers: { [relay.keyHeader]: relay.key } }));
      const reuse = createNetServer();
      await new Promise<void>((resolve, reject) => reuse.once('error', reject).listen(port, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => reuse.close(() => resolve()));
      await relay.dispose();
    } finally {
      await relay.dispose();
      await upstream.close();
    }
  });
});

function hostOf(relay: AuthorizingRelay): string {
  return new URL(relay.origin).host;
}
