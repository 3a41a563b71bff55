// The command line's and the editor's networks against a real server on loopback, with a resolver that answers
// differently on each lookup: the address checked must be the address connected, and the MCP server's class the one
// its probe reached.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationPolicy } from '../../src/core/addresses';
import type { Lookup } from '../../src/node/checkedLookup';
import { lookupCheckedNetwork } from '../../src/core/lookupCheckedNetwork';
import { createGuardedNetwork } from '../../src/node/guardedNetwork';
import { createRequestNetwork } from '../../src/node/requestNetwork';
import { rejectsWithCode } from '../unit/core/fakes';

const LOOPBACK_SERVER: DestinationPolicy = { serverAddressClass: 'loopback' };

/** A resolver that gives each lookup of a name the next of its answers (the last one repeats), as a rebinding DNS would. */
function changingResolver(answers: readonly (readonly string[])[]) {
  const asked: string[] = [];
  const lookup: Lookup = (hostname, options, callback) => {
    asked.push(hostname);
    const addresses = answers[Math.min(asked.length, answers.length) - 1]!.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
  return { lookup, asked };
}

/** The same resolver as the engine's lookup before a request (ResolveHost), for the editor's network. */
function resolveHostOver(lookup: Lookup) {
  return (hostname: string) => new Promise<string[]>((resolve, reject) => {
    lookup(hostname, { all: true }, (error, answer) => (error ? reject(error) : resolve(typeof answer === 'string' ? [answer] : answer.map((entry) => entry.address))));
  });
}

/** The editor's network as the extension composes it, over one resolver for both its lookups. */
function editorNetwork(lookup: Lookup) {
  return lookupCheckedNetwork(createRequestNetwork({ lookup }), resolveHostOver(lookup));
}

interface Received {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A loopback server that closes every connection after answering, so each request needs a new connection (and lookup). */
async function startServer(): Promise<{ server: Server; port: number; requests: string[]; received: Received[] }> {
  const requests: string[] = [];
  const received: Received[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', method: request.method ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (request.url === '/slow') return;
      response.writeHead(request.url === '/created' ? 201 : 200, { connection: 'close', 'content-type': 'text/plain', 'x-answer': 'yes' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, requests, received };
}

describe('Node\'s networks against a server on loopback', () => {
  let running: Awaited<ReturnType<typeof startServer>>;
  beforeEach(async () => {
    running = await startServer();
  });
  afterEach(async () => {
    running.server.closeAllConnections();
    await new Promise((resolve) => running.server.close(resolve));
  });

  describe('the guarded network (the command line\'s)', () => {
    it('checks the address it connects to, so a name that rebinds to the metadata service on its next lookup is refused', async () => {
      const resolver = changingResolver([['127.0.0.1'], ['169.254.169.254']]);
      const network = createGuardedNetwork({ fetch: (input, init) => fetch(input, init), lookup: resolver.lookup });
      const url = new URL(`http://rebind.test:${running.port}/token`);
      const first = await network.fetch(url, { method: 'POST' }, LOOPBACK_SERVER);
      assert.equal(await first.text(), 'ok');
      const refused = await rejectsWithCode(network.fetch(url, { method: 'POST' }, LOOPBACK_SERVER), 'forbidden_address');
      assert.match(refused.message, /refused to contact http:\/\/rebind\.test:\d+\/token: it resolves to a link-local address/);
      assert.deepEqual(running.requests, ['/token'], 'only the checked connection reached a server');
      assert.deepEqual(resolver.asked, ['rebind.test', 'rebind.test'], 'one lookup per connection, and each was the one checked');
    });

    it('refuses an IP literal outside the policy without connecting', async () => {
      const resolver = changingResolver([['127.0.0.1']]);
      const network = createGuardedNetwork({ fetch: (input, init) => fetch(input, init), lookup: resolver.lookup });
      await rejectsWithCode(network.fetch(new URL('http://10.0.0.1:9/token'), { method: 'POST' }, LOOPBACK_SERVER), 'forbidden_address');
      assert.deepEqual(resolver.asked, []);
    });

    it('refuses a name whose answer mixes an allowed address with a forbidden one', async () => {
      const resolver = changingResolver([['127.0.0.1', '10.0.0.1']]);
      const network = createGuardedNetwork({ fetch: (input, init) => fetch(input, init), lookup: resolver.lookup });
      await rejectsWithCode(network.fetch(new URL(`http://mixed.test:${running.port}/`), {}, LOOPBACK_SERVER), 'forbidden_address');
      assert.deepEqual(running.requests, []);
    });

    it('classifies the MCP server by the address its probe reached, not by every address its name lists', async () => {
      // TEST-NET-1 does not answer; the connection falls through to loopback, where the server is.
      const resolver = changingResolver([['192.0.2.1', '127.0.0.1']]);
      const network = createGuardedNetwork({ fetch: (input, init) => fetch(input, init), lookup: resolver.lookup });
      const { response, addressClass } = await network.probe(new URL(`http://mcp.test:${running.port}/mcp`), { method: 'POST' });
      assert.equal(await response.text(), 'ok');
      assert.equal(addressClass, 'loopback');
    });
  });

  describe('the editor\'s network (Node\'s http requests, which the editor routes through the person\'s proxy)', () => {

    it('checks the address it connects to: a name allowed on the lookup before the request that rebinds to the metadata service to connect is refused', async () => {
      const resolver = changingResolver([['127.0.0.1'], ['169.254.169.254']]);
      const url = new URL(`http://rebind.test:${running.port}/token`);
      const refused = await rejectsWithCode(editorNetwork(resolver.lookup).fetch(url, { method: 'POST' }, LOOPBACK_SERVER), 'forbidden_address');
      assert.match(refused.message, /refused to contact http:\/\/rebind\.test:\d+\/token: it resolves to a link-local address/);
      assert.deepEqual(running.requests, [], 'nothing reached a server');
      assert.deepEqual(resolver.asked, ['rebind.test', 'rebind.test'], 'the lookup before the request, then the one that connects');
    });

    it('refuses an IP literal outside the policy without connecting', async () => {
      const resolver = changingResolver([['127.0.0.1']]);
      await rejectsWithCode(createRequestNetwork({ lookup: resolver.lookup }).fetch(new URL('http://10.0.0.1:9/token'), { method: 'POST' }, LOOPBACK_SERVER), 'forbidden_address');
      assert.deepEqual(resolver.asked, []);
    });

    it('classifies the MCP server by the address its probe connected to, not by every address its name lists', async () => {
      const resolver = changingResolver([['192.0.2.1', '127.0.0.1']]);
      const { response, addressClass } = await editorNetwork(resolver.lookup).probe(new URL(`http://mcp.test:${running.port}/mcp`), { method: 'POST' });
      assert.equal(await response.text(), 'ok');
      assert.equal(addressClass, 'loopback');
    });

    it('sends method, headers and a form body as fetch would, and hands back status, headers and body', async () => {
      const resolver = changingResolver([['127.0.0.1']]);
      const response = await editorNetwork(resolver.lookup).fetch(new URL(`http://as.test:${running.port}/created`), { method: 'POST', headers: { authorization: 'Basic abc' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r t' }) }, LOOPBACK_SERVER);
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('x-answer'), 'yes');
      assert.equal(await response.text(), 'ok');
      const [request] = running.received;
      assert.equal(request?.method, 'POST');
      assert.equal(request?.body, 'grant_type=refresh_token&refresh_token=r+t');
      assert.match(String(request?.headers['content-type']), /^application\/x-www-form-urlencoded/);
      assert.equal(request?.headers.authorization, 'Basic abc');
      assert.equal(request?.headers['content-length'], String(request?.body.length));
    });

    it('ends a request that gets no answer with its signal\'s reason', async () => {
      const resolver = changingResolver([['127.0.0.1']]);
      const request = editorNetwork(resolver.lookup).fetch(new URL(`http://as.test:${running.port}/slow`), { method: 'GET', signal: AbortSignal.timeout(300) }, LOOPBACK_SERVER);
      await assert.rejects(request, (error: Error) => error.name === 'TimeoutError');
    });
  });
});
