// How long the engine trusts what an MCP server's probe said about where the server is (the class of its address),
// and that one caller giving up on a probe does not fail another caller waiting for the same probe.
import assert from 'node:assert/strict';
import type { AddressClass, DestinationPolicy } from '../../../src/core/addresses';
import { DEFAULT_DISCOVERY_TTL_MS } from '../../../src/core/discoveryCache';
import { Keyring } from '../../../src/core/keyring';
import type { Network } from '../../../src/core/ports';
import { KeyringRepository, type ClientRecord, type StoredDiscovery } from '../../../src/core/records';
import { MemoryStore, fakeClock, json, type FakeClock } from './fakes';

const SERVER_URL = 'https://mcp.example/mcp';
const as = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token', authorization_endpoint: 'https://as.example/authorize', grant_types_supported: ['client_credentials', 'refresh_token'] };
const client: ClientRecord = { issuer: as.issuer, clientId: 'machine', clientSecret: 'machine-secret', authMethod: 'client_secret_post', redirectUris: [], origin: 'pre-registered', registeredAt: 0 };

/** A network whose probe answers 401 from an address of class `reached`; the first probe may wait for its caller to give up. */
function fakeNetwork(reached: AddressClass, options: { firstProbeWaitsForAbort?: boolean } = {}) {
  const tokenPolicies: DestinationPolicy[] = [];
  let probes = 0;
  const network: Network = {
    async probe(_url, init) {
      probes += 1;
      if (probes === 1 && options.firstProbeWaitsForAbort) {
        await new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason as Error), { once: true }));
      }
      return { response: new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } }), addressClass: reached };
    },
    fetch(url, _init, policy) {
      if (url.href !== as.token_endpoint) return Promise.resolve(new Response('not found', { status: 404 }));
      tokenPolicies.push(policy);
      return Promise.resolve(json({ access_token: `access-${tokenPolicies.length}`, token_type: 'Bearer', expires_in: 3600 }, 200, { 'cache-control': 'no-store' }));
    },
  };
  return { network, tokenPolicies, probes: () => probes };
}

function keyringOver(store: MemoryStore, network: Network, clock: FakeClock): Keyring {
  return Keyring.create({
    store,
    network,
    clock,
    fetch: () => Promise.reject(new Error('no request to the MCP server itself is expected')),
    openUrl: () => Promise.reject(new Error('no browser in these tests')),
    createReceiver: () => Promise.reject(new Error('no browser in these tests')),
  });
}

/** A discovery stored `age` ago, with or without the class of the address its probe reached. */
function discoveryAged(clock: FakeClock, age: number, serverAddressClass?: AddressClass): StoredDiscovery {
  return {
    serverUrl: SERVER_URL, resource: SERVER_URL, authorizationServer: as, metadataSource: 'test', storedAt: clock.now() - age,
    challenge: { scheme: 'bearer', params: {} },
    ...(serverAddressClass ? { serverAddressClass } : {}),
  };
}

const machineSignIn = { grant: { kind: 'client_credentials' } as const, client: { clientId: client.clientId, clientSecret: client.clientSecret, authMethod: client.authMethod } };

describe('Keyring: the MCP server\'s address class', () => {
  it('lets a caller waiting for another caller\'s probe go on when that caller gives up, by probing again', async () => {
    const clock = fakeClock();
    const store = new MemoryStore();
    // A discovery from before the class was kept: the sign-in asks the probe for it.
    await new KeyringRepository(store).putDiscovery(discoveryAged(clock, 0));
    const fake = fakeNetwork('public', { firstProbeWaitsForAbort: true });
    const keyring = keyringOver(store, fake.network, clock);
    const givingUp = new AbortController();
    const first = keyring.probe(SERVER_URL, givingUp.signal);
    const second = keyring.signIn(SERVER_URL, machineSignIn);
    // The sign-in reaches the shared probe on promises alone (a memory store): one turn of the event loop puts it there.
    await new Promise((resolve) => setImmediate(resolve));
    givingUp.abort();
    await assert.rejects(first, (error: Error & { code?: string }) => error.code === 'cancelled');
    assert.equal((await second).accessToken, 'access-1');
    assert.equal(fake.probes(), 2);
    assert.deepEqual(fake.tokenPolicies, [{ serverAddressClass: 'public' }]);
  });

  it('probes the server again once what its last probe said is older than a discovery may be', async () => {
    const clock = fakeClock();
    const store = new MemoryStore();
    const repository = new KeyringRepository(store);
    const fake = fakeNetwork('public');
    const keyring = keyringOver(store, fake.network, clock);
    await keyring.probe(SERVER_URL);
    clock.advance(DEFAULT_DISCOVERY_TTL_MS + 1);
    await repository.putDiscovery(discoveryAged(clock, 0));
    await keyring.signIn(SERVER_URL, machineSignIn);
    assert.equal(fake.probes(), 2);
  });

  it('uses the class stored with a discovery only while the discovery is fresh', async () => {
    const clock = fakeClock();
    const store = new MemoryStore();
    const repository = new KeyringRepository(store);
    await repository.putClient(client);
    await repository.putCredential({ serverUrl: SERVER_URL, resource: SERVER_URL, issuer: as.issuer, clientId: client.clientId, account: 'machine', accessToken: 'access-0', refreshToken: 'refresh-0', tokenType: 'bearer', scopes: [], obtainedAt: clock.now(), needsSignIn: false });
    // The server's name led to a loopback address when it was discovered, longer ago than a discovery is trusted.
    await repository.putDiscovery(discoveryAged(clock, DEFAULT_DISCOVERY_TTL_MS + 1, 'loopback'));
    const fake = fakeNetwork('public');
    const keyring = keyringOver(store, fake.network, clock);
    await keyring.refresh(SERVER_URL, undefined);
    assert.equal(fake.probes(), 1);
    assert.deepEqual(fake.tokenPolicies, [{ serverAddressClass: 'public' }]);
  });
});
