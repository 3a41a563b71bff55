import assert from 'node:assert/strict';
import type { AddressClass } from '../../../src/core/addresses';
import { HttpClient, RESPONSE_LIMITS, type RequestPurpose } from '../../../src/core/http';
import type { FetchFn } from '../../../src/core/ports';
import { lookupCheckedNetwork } from '../../../src/core/lookupCheckedNetwork';
import { fakeResolveHost, httpClientOver, platformNetworkOver, jsonRoute, recordingLogger, rejectsWithCode, routerFetch, type Route } from './fakes';

const policy = (serverAddressClass: AddressClass) => ({ serverAddressClass });
const GET: RequestInit = { method: 'GET' };

function redirectTo(location: string, status = 302): Route {
  return () => new Response(null, { status, headers: { location } });
}

/** A body that never ends, recording whether the reader cancelled it. */
function endlessBody(chunkSize: number): { stream: ReadableStream<Uint8Array>; pulls: () => number; wasCancelled: () => boolean } {
  let pulls = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(new Uint8Array(chunkSize));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulls: () => pulls, wasCancelled: () => cancelled };
}

describe('HttpClient', () => {
  describe('transport security', () => {
    it('refuses plain http to a host that is not loopback without calling fetch', async () => {
      const server = routerFetch();
      const http = httpClientOver(server.fetch, { resolveHost: fakeResolveHost({}, ['8.8.8.8']) });
      await rejectsWithCode(http.request(new URL('http://as.example/token'), { method: 'POST' }, 'token', policy('public')), 'insecure_url');
      assert.deepEqual(server.requests, []);
    });

    it('allows plain http to a loopback host', async () => {
      const server = routerFetch({ 'http://localhost:9000/token': jsonRoute({ ok: true }) });
      const http = httpClientOver(server.fetch, { resolveHost: fakeResolveHost({ localhost: ['127.0.0.1'] }) });
      const response = await http.request(new URL('http://localhost:9000/token'), { method: 'POST' }, 'token', policy('loopback'));
      assert.deepEqual(await response.json(), { ok: true });
    });

    it('asks a changing allowInsecureLoopback at every request', async () => {
      const server = routerFetch({ 'http://localhost:9000/token': jsonRoute({ ok: true }) });
      let isAllowed = false;
      const http = new HttpClient({ network: lookupCheckedNetwork(platformNetworkOver(server.fetch), fakeResolveHost({ localhost: ['127.0.0.1'] })), logger: recordingLogger(), allowInsecureLoopback: () => isAllowed });
      const request = () => http.request(new URL('http://localhost:9000/token'), { method: 'POST' }, 'token', policy('loopback'));
      await rejectsWithCode(request(), 'insecure_url');
      assert.deepEqual(server.requests, []);
      isAllowed = true;
      assert.equal((await request()).status, 200);
      isAllowed = false;
      await rejectsWithCode(request(), 'insecure_url');
      assert.equal(server.requests.length, 1);
    });
  });

  describe('destination policy', () => {
    const refused: [string, string[], AddressClass][] = [
      ['a private address for a public server', ['10.0.0.1'], 'public'],
      ['the metadata service for a public server', ['169.254.169.254'], 'public'],
      ['a loopback address for a public server', ['127.0.0.1'], 'public'],
      ['an IPv6 unique local address for a public server', ['fd00:ec2::254'], 'public'],
      ['an IPv4-mapped private address for a public server', ['::ffff:192.168.0.1'], 'public'],
      ['a private address for a loopback server', ['192.168.1.10'], 'loopback'],
      ['the metadata service for a loopback server', ['169.254.169.254'], 'loopback'],
      ['a reserved address for a loopback server', ['0.0.0.0'], 'loopback'],
      ['one private address among public ones', ['8.8.8.8', '10.0.0.1'], 'public'],
      ['the metadata service for a private server', ['169.254.169.254'], 'private'],
    ];
    for (const [name, addresses, serverClass] of refused) {
      it(`refuses a host resolving to ${name} without calling fetch`, async () => {
        const server = routerFetch();
        const http = httpClientOver(server.fetch, { resolveHost: fakeResolveHost({ 'as.example': addresses }) });
        const error = await rejectsWithCode(http.request(new URL('https://as.example/token?code=secret-code'), GET, 'metadata', policy(serverClass)), 'forbidden_address');
        assert.deepEqual(server.requests, []);
        assert.ok(!error.message.includes('secret-code'), error.message);
      });
    }

    const allowed: [string, string[], AddressClass][] = [
      ['a public address for a public server', ['8.8.8.8'], 'public'],
      ['a public address for a loopback server', ['2606:4700::1111'], 'loopback'],
      ['a private address for a private server', ['10.1.2.3'], 'private'],
      ['a loopback address for a loopback server', ['127.0.0.1', '::1'], 'loopback'],
    ];
    for (const [name, addresses, serverClass] of allowed) {
      it(`allows a host resolving to ${name}`, async () => {
        const server = routerFetch({ 'https://as.example/meta': jsonRoute({ ok: true }) });
        const http = httpClientOver(server.fetch, { resolveHost: fakeResolveHost({ 'as.example': addresses }) });
        const response = await http.request(new URL('https://as.example/meta'), GET, 'metadata', policy(serverClass));
        assert.equal(response.status, 200);
        assert.deepEqual(server.urls(), ['https://as.example/meta']);
      });
    }

    it('fails with network when the host resolves to no address', async () => {
      const server = routerFetch();
      const http = httpClientOver(server.fetch, { resolveHost: fakeResolveHost({ 'as.example': [] }) });
      await rejectsWithCode(http.request(new URL('https://as.example/meta'), GET, 'metadata', policy('public')), 'network');
      assert.deepEqual(server.requests, []);
    });

    it('fails with network when the lookup fails', async () => {
      const http = httpClientOver(routerFetch().fetch, { resolveHost: () => Promise.reject(new Error('ENOTFOUND')) });
      await rejectsWithCode(http.request(new URL('https://as.example/meta'), GET, 'metadata', policy('public')), 'network');
    });

    it('classifies a probed host by its addresses, granting a non-public class only when all of them share it', async () => {
      const server = routerFetch({ 'https://mcp.internal/mcp': jsonRoute({}), 'https://mcp.example/mcp': jsonRoute({}), 'https://mixed.example/mcp': jsonRoute({}) });
      const http = httpClientOver(server.fetch, {
        resolveHost: fakeResolveHost({ 'mcp.internal': ['10.0.0.5', '10.0.0.6'], 'mcp.example': ['8.8.4.4'], 'mixed.example': ['10.0.0.1', '8.8.4.4'] }),
      });
      assert.equal((await http.probe(new URL('https://mcp.internal/mcp'), GET)).addressClass, 'private');
      assert.equal((await http.probe(new URL('https://mcp.example/mcp'), GET)).addressClass, 'public');
      assert.equal((await http.probe(new URL('https://mixed.example/mcp'), GET)).addressClass, 'public');
    });
  });

  describe('response size', () => {
    const purposes: RequestPurpose[] = ['token', 'metadata'];
    for (const purpose of purposes) {
      const limit = RESPONSE_LIMITS[purpose];

      it(`refuses a ${purpose} response declaring more than ${limit} bytes, without reading it`, async () => {
        const body = endlessBody(1024);
        const server = routerFetch({ 'https://as.example/x': () => new Response(body.stream, { headers: { 'content-length': String(limit + 1) } }) });
        await rejectsWithCode(httpClientOver(server.fetch).request(new URL('https://as.example/x'), GET, purpose, policy('loopback')), 'response_too_large');
        assert.ok(body.wasCancelled());
      });

      it(`refuses a chunked ${purpose} response that grows past ${limit} bytes and stops reading it`, async () => {
        const body = endlessBody(4096);
        const server = routerFetch({ 'https://as.example/x': () => new Response(body.stream) });
        await rejectsWithCode(httpClientOver(server.fetch).request(new URL('https://as.example/x'), GET, purpose, policy('loopback')), 'response_too_large');
        assert.ok(body.wasCancelled());
        assert.ok(body.pulls() <= limit / 4096 + 3, `read ${body.pulls()} chunks`);
      });

      it(`accepts a ${purpose} response of exactly ${limit} bytes`, async () => {
        const server = routerFetch({ 'https://as.example/x': () => new Response(new Uint8Array(limit), { status: 200, headers: { 'x-kept': 'yes' } }) });
        const response = await httpClientOver(server.fetch).request(new URL('https://as.example/x'), GET, purpose, policy('loopback'));
        assert.equal((await response.arrayBuffer()).byteLength, limit);
        assert.equal(response.headers.get('x-kept'), 'yes');
      });
    }

    it('passes a bodiless 204 through', async () => {
      const server = routerFetch({ 'https://as.example/revoke': () => new Response(null, { status: 204 }) });
      const response = await httpClientOver(server.fetch).request(new URL('https://as.example/revoke'), { method: 'POST' }, 'revocation', policy('loopback'));
      assert.equal(response.status, 204);
    });
  });

  describe('redirects', () => {
    for (const purpose of ['token', 'registration', 'revocation'] as const) {
      it(`refuses a redirect of a ${purpose} request without following it`, async () => {
        const server = routerFetch({ 'https://as.example/x': redirectTo('https://as.example/y', 307), 'https://as.example/y': jsonRoute({}) });
        await rejectsWithCode(httpClientOver(server.fetch).request(new URL('https://as.example/x'), { method: 'POST' }, purpose, policy('loopback')), 'invalid_response');
        assert.deepEqual(server.urls(), ['https://as.example/x']);
      });
    }

    it('asks fetch not to follow redirects on its own', async () => {
      const server = routerFetch({ 'https://as.example/x': jsonRoute({}) });
      await httpClientOver(server.fetch).request(new URL('https://as.example/x'), GET, 'metadata', policy('loopback'));
      assert.equal(server.requests[0]?.init?.redirect, 'manual');
    });

    it('follows up to three metadata redirects, resolving relative locations', async () => {
      const server = routerFetch({
        'https://a.example/0': redirectTo('https://b.example/1', 301),
        'https://b.example/1': redirectTo('/2', 302),
        'https://b.example/2': redirectTo('https://c.example/3', 308),
        'https://c.example/3': jsonRoute({ issuer: 'https://c.example' }),
      });
      const response = await httpClientOver(server.fetch).request(new URL('https://a.example/0'), GET, 'metadata', policy('loopback'));
      assert.deepEqual(await response.json(), { issuer: 'https://c.example' });
      assert.deepEqual(server.urls(), ['https://a.example/0', 'https://b.example/1', 'https://b.example/2', 'https://c.example/3']);
    });

    it('refuses a fourth metadata redirect', async () => {
      const server = routerFetch({
        'https://a.example/0': redirectTo('/1'),
        'https://a.example/1': redirectTo('/2'),
        'https://a.example/2': redirectTo('/3'),
        'https://a.example/3': redirectTo('/4'),
        'https://a.example/4': jsonRoute({}),
      });
      await rejectsWithCode(httpClientOver(server.fetch).request(new URL('https://a.example/0'), GET, 'metadata', policy('loopback')), 'invalid_response');
      assert.ok(!server.urls().includes('https://a.example/4'));
    });

    it('re-checks the transport of every redirect target', async () => {
      const server = routerFetch({ 'https://a.example/0': redirectTo('http://b.example/meta') });
      await rejectsWithCode(httpClientOver(server.fetch).request(new URL('https://a.example/0'), GET, 'metadata', policy('loopback')), 'insecure_url');
      assert.deepEqual(server.urls(), ['https://a.example/0']);
    });

    it('re-checks the destination of every redirect target', async () => {
      const server = routerFetch({ 'https://a.example/0': redirectTo('https://metadata.internal/latest') });
      const resolveHost = fakeResolveHost({ 'a.example': ['8.8.8.8'], 'metadata.internal': ['169.254.169.254'] });
      await rejectsWithCode(httpClientOver(server.fetch, { resolveHost }).request(new URL('https://a.example/0'), GET, 'metadata', policy('public')), 'forbidden_address');
      assert.deepEqual(server.urls(), ['https://a.example/0']);
    });

    it('returns a 3xx without a Location as it is', async () => {
      const server = routerFetch({ 'https://a.example/0': () => new Response(null, { status: 304 }) });
      const response = await httpClientOver(server.fetch).request(new URL('https://a.example/0'), GET, 'token', policy('loopback'));
      assert.equal(response.status, 304);
    });
  });

  describe('timeouts and cancellation', () => {
    const hanging: FetchFn = (_url, init) => new Promise((_resolve, reject) => {
      const signal = init?.signal;
      if (signal?.aborted) reject(signal.reason as Error);
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });

    it('fails with timeout when the server does not answer in time', async () => {
      const http = httpClientOver(hanging, { timeoutMs: 20 });
      await rejectsWithCode(http.request(new URL('https://as.example/token'), { method: 'POST' }, 'token', policy('loopback')), 'timeout');
    });

    it('fails with timeout when a probe gets no answer in time', async () => {
      const http = httpClientOver(hanging, { timeoutMs: 20 });
      await rejectsWithCode(http.probe(new URL('https://mcp.example/mcp'), GET), 'timeout');
    });

    it("fails with cancelled when the caller's signal aborts", async () => {
      const http = httpClientOver(hanging, { timeoutMs: 5_000 });
      const controller = new AbortController();
      const pending = http.request(new URL('https://as.example/token'), { method: 'POST', signal: controller.signal }, 'token', policy('loopback'));
      controller.abort();
      await rejectsWithCode(pending, 'cancelled');
    });

    it('fails with network when fetch itself fails', async () => {
      const http = httpClientOver(() => Promise.reject(new TypeError('fetch failed')));
      await rejectsWithCode(http.request(new URL('https://as.example/token'), { method: 'POST' }, 'token', policy('loopback')), 'network');
    });
  });

  describe('probe', () => {
    it('returns status and headers and discards an endless body', async () => {
      const body = endlessBody(1024);
      const server = routerFetch({ 'https://mcp.example/mcp': () => new Response(body.stream, { status: 401, headers: { 'www-authenticate': 'Bearer realm="x"' } }) });
      const result = await httpClientOver(server.fetch).probe(new URL('https://mcp.example/mcp'), GET);
      assert.equal(result.status, 401);
      assert.equal(result.headers.get('www-authenticate'), 'Bearer realm="x"');
      assert.ok(body.wasCancelled());
    });

    it('reaches the MCP server wherever the person chose it to be, and says in which class of address it is', async () => {
      const server = routerFetch({ 'https://mcp.example/mcp': jsonRoute({}, 401) });
      const http = httpClientOver(server.fetch, { resolveHost: fakeResolveHost({ 'mcp.example': ['10.0.0.1'] }) });
      assert.equal((await http.probe(new URL('https://mcp.example/mcp'), GET)).addressClass, 'private');
    });
  });

  describe('oauthFetch', () => {
    it('puts library requests through the same rules', async () => {
      const server = routerFetch({ 'https://as.example/token': redirectTo('https://elsewhere.example/token') });
      const fetchForLibrary = httpClientOver(server.fetch).oauthFetch('token', policy('loopback'));
      await rejectsWithCode(fetchForLibrary('https://as.example/token', { method: 'POST', headers: {}, body: 'x', redirect: 'manual' }), 'invalid_response');
    });
  });
});
