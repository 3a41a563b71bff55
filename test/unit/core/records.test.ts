import assert from 'node:assert/strict';
import { KeyringRepository, credentialKey, decodeStoreKey, type ClientRecord, type Credential, type ServerBinding, type StoredDiscovery } from '../../../src/core/records';
import { MemoryStore, rejectsWithCode } from './fakes';

const client: ClientRecord = {
  issuer: 'https://as.example', clientId: 'client-1', clientSecret: 'client-secret-value', authMethod: 'client_secret_basic',
  redirectUris: ['http://127.0.0.1/callback'], origin: 'dynamic-registration', registeredAt: 1,
};
const binding: ServerBinding = { serverUrl: 'https://mcp.example/mcp', resource: 'https://mcp.example/mcp', issuer: 'https://as.example', clientId: 'client-1', account: 'alice' };
const credential: Credential = {
  resource: binding.resource, issuer: binding.issuer, clientId: binding.clientId, account: binding.account,
  accessToken: 'access-token-value', refreshToken: 'refresh-token-value', tokenType: 'bearer', scopes: ['read'],
  expiresAt: 2_000, obtainedAt: 1_000, lastRefresh: { at: 1_000, outcome: 'ok' }, needsSignIn: false,
};
const discovery: StoredDiscovery = {
  serverUrl: binding.serverUrl, resource: binding.resource, resourceMetadataUrl: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
  resourceScopes: ['read'], authorizationServer: { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' },
  metadataSource: 'https://as.example/.well-known/oauth-authorization-server', storedAt: 5,
  challenge: { scheme: 'bearer', params: { scope: 'read', resource_metadata: 'https://mcp.example/.well-known/oauth-protected-resource/mcp' } },
};

describe('KeyringRepository', () => {
  let store: MemoryStore;
  let repository: KeyringRepository;
  beforeEach(() => {
    store = new MemoryStore();
    repository = new KeyringRepository(store);
  });

  it('reads back a client record it wrote', async () => {
    await repository.putClient(client);
    assert.deepEqual(await repository.getClient(client.issuer, client.clientId), client);
    assert.equal(await repository.getClient('https://other.example', client.clientId), undefined);
    assert.equal(await repository.getClient(client.issuer, 'another-client'), undefined);
  });

  it('keeps several client identities at one issuer apart and lists only that issuer\'s', async () => {
    const second = { ...client, clientId: 'second-client' };
    const elsewhere = { ...client, issuer: `${client.issuer}/tenant` };
    for (const record of [client, second, elsewhere]) await repository.putClient(record);
    assert.deepEqual((await repository.listClients(client.issuer)).map((record) => record.clientId).sort(), [client.clientId, 'second-client'].sort());
    assert.deepEqual(await repository.listClients(elsewhere.issuer), [elsewhere]);
  });

  it('reads back a server binding it wrote and lists it', async () => {
    const other = { ...binding, serverUrl: 'https://other.example/mcp' };
    await repository.putServer(binding);
    await repository.putServer(other);
    assert.deepEqual(await repository.getServer(binding.serverUrl), binding);
    assert.deepEqual((await repository.listServers()).map((server) => server.serverUrl).sort(), [binding.serverUrl, other.serverUrl]);
  });

  it('reads back a credential by its binding', async () => {
    await repository.putCredential(credential);
    assert.deepEqual(await repository.getCredential(binding), credential);
    assert.equal(await repository.getCredential({ ...binding, account: 'bob' }), undefined);
  });

  it('reads back a credential without its optional fields', async () => {
    const minimal: Credential = { ...credential, refreshToken: undefined, expiresAt: undefined, lastRefresh: undefined };
    await repository.putCredential(minimal);
    assert.deepEqual(await repository.getCredential(binding), JSON.parse(JSON.stringify(minimal)));
  });

  it('reads back a discovery result it wrote', async () => {
    await repository.putDiscovery(discovery);
    assert.deepEqual(await repository.getDiscovery(discovery.serverUrl), discovery);
    await repository.putDiscovery({ ...discovery, serverAddressClass: 'private' });
    assert.equal((await repository.getDiscovery(discovery.serverUrl))?.serverAddressClass, 'private');
  });

  it('deletes each kind of record', async () => {
    await repository.putClient(client);
    await repository.putServer(binding);
    await repository.putCredential(credential);
    await repository.putDiscovery(discovery);
    await repository.deleteClient(client.issuer, client.clientId);
    await repository.deleteServer(binding.serverUrl);
    await repository.deleteCredential(binding);
    await repository.deleteDiscovery(discovery.serverUrl);
    assert.equal(store.values.size, 0);
  });

  it('keys credentials so that parts containing separators cannot collide', () => {
    const a = credentialKey({ resource: 'https://h/a', issuer: 'x', clientId: 'y:z', account: 'w' });
    const b = credentialKey({ resource: 'https://h/a', issuer: 'x:y', clientId: 'z', account: 'w' });
    assert.notEqual(a, b);
  });

  it('fails with store_failed on a record that is not JSON, without echoing it', async () => {
    store.values.set(credentialKey(binding), '{"accessToken":"leaked-token-value"');
    const error = await rejectsWithCode(repository.getCredential(binding), 'store_failed');
    assert.ok(!error.message.includes('leaked-token-value'), error.message);
  });

  const wrongCredentials: [string, unknown][] = [
    ['null', null],
    ['an array', [credential]],
    ['a string', 'leaked-token-value'],
    ['a number', 42],
    ['a missing access token', { ...credential, accessToken: undefined }],
    ['an access token that is a number', { ...credential, accessToken: 7 }],
    ['scopes as a string', { ...credential, scopes: 'read write' }],
    ['scopes with a non-string item', { ...credential, scopes: ['read', 1] }],
    ['needsSignIn as a string', { ...credential, needsSignIn: 'false' }],
    ['expiresAt as a string', { ...credential, expiresAt: '2000' }],
    ['lastRefresh as null', { ...credential, lastRefresh: null }],
    ['a missing obtainedAt', { ...credential, obtainedAt: undefined }],
  ];
  for (const [name, value] of wrongCredentials) {
    it(`fails with store_failed on a credential with ${name}, without echoing it`, async () => {
      store.values.set(credentialKey(binding), JSON.stringify(value));
      const error = await rejectsWithCode(repository.getCredential(binding), 'store_failed');
      assert.ok(!error.message.includes('leaked-token-value') && !error.message.includes('access-token-value'), error.message);
    });
  }

  const wrongOthers: [string, (repository: KeyringRepository) => Promise<unknown>, string, unknown][] = [
    ['a client without redirect URIs', (repo) => repo.getClient(client.issuer, client.clientId), `client:${JSON.stringify([client.issuer, client.clientId])}`, { ...client, redirectUris: undefined }],
    ['a client secret that is not a string', (repo) => repo.getClient(client.issuer, client.clientId), `client:${JSON.stringify([client.issuer, client.clientId])}`, { ...client, clientSecret: { value: 'client-secret-value' } }],
    ['a server binding without an issuer', (repo) => repo.getServer(binding.serverUrl), `server:${binding.serverUrl}`, { ...binding, issuer: undefined }],
    ['a listed server binding of the wrong shape', (repo) => repo.listServers(), `server:${binding.serverUrl}`, { serverUrl: 3 }],
    ['a discovery whose authorization server has no issuer', (repo) => repo.getDiscovery(discovery.serverUrl), `discovery:${discovery.serverUrl}`, { ...discovery, authorizationServer: { token_endpoint: 'https://as.example/token' } }],
    ['a discovery whose remembered challenge has a parameter that is not a string', (repo) => repo.getDiscovery(discovery.serverUrl), `discovery:${discovery.serverUrl}`, { ...discovery, challenge: { scheme: 'bearer', params: { scope: ['read'] } } }],
    ['a discovery whose remembered challenge has no scheme', (repo) => repo.getDiscovery(discovery.serverUrl), `discovery:${discovery.serverUrl}`, { ...discovery, challenge: { params: {} } }],
    ['a discovery kept under an address class that does not exist', (repo) => repo.getDiscovery(discovery.serverUrl), `discovery:${discovery.serverUrl}`, { ...discovery, serverAddressClass: 'anywhere' }],
    ['a discovery whose authorization server is null', (repo) => repo.getDiscovery(discovery.serverUrl), `discovery:${discovery.serverUrl}`, { ...discovery, authorizationServer: null }],
  ];
  for (const [name, read, key, value] of wrongOthers) {
    it(`fails with store_failed on ${name}`, async () => {
      store.values.set(key, JSON.stringify(value));
      const error = await rejectsWithCode(read(repository), 'store_failed');
      assert.ok(!error.message.includes('client-secret-value'), error.message);
    });
  }
});

describe('decodeStoreKey', () => {
  it('reads back the parts of a credential key, separators inside values included', () => {
    const parts = { resource: 'https://h/a', issuer: 'x:y', clientId: '["z"]', account: 'w' };
    assert.deepEqual(decodeStoreKey(credentialKey(parts)), { kind: 'credential', credential: parts });
  });

  it('reads the server URL of a server binding key', async () => {
    const store = new MemoryStore();
    await new KeyringRepository(store).putServer({ serverUrl: 'https://h/mcp', resource: 'https://h/mcp', issuer: 'x', clientId: 'y', account: 'w' });
    assert.deepEqual([...store.values.keys()].map(decodeStoreKey), [{ kind: 'server', serverUrl: 'https://h/mcp' }]);
  });

  const others = ['discovery:https://h/mcp', 'client:["x","y"]', 'credential:not json', 'credential:["a","b"]', 'credential:[1,2,3,4]'];
  for (const key of others) {
    it(`takes ${key} for something else`, () => assert.deepEqual(decodeStoreKey(key), { kind: 'other' }));
  }
});
