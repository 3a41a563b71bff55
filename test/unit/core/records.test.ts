import assert from 'node:assert/strict';
import { KeyringRepository, accountId, credentialKey, decodeStoreKey, serverKeyId, type AccountRef, type ClientRecord, type Credential, type StoredDiscovery } from '../../../src/core/records';
import { MemoryStore, rejectsWithCode } from './fakes';

const client: ClientRecord = {
  issuer: 'https://as.example', clientId: 'client-1', clientSecret: 'client-secret-value', authMethod: 'client_secret_basic',
  redirectUris: ['http://127.0.0.1/callback'], origin: 'dynamic-registration', registeredAt: 1,
};
const binding: AccountRef = { serverUrl: 'https://mcp.example/mcp', issuer: 'https://as.example', account: 'alice', subject: 'alice-sub' };
const credential: Credential = {
  serverUrl: binding.serverUrl, resource: 'https://mcp.example/mcp', issuer: binding.issuer, clientId: 'client-1', account: binding.account, subject: 'alice-sub',
  accessToken: 'access-token-value', refreshToken: 'refresh-token-value', tokenType: 'bearer', scopes: ['read'],
  expiresAt: 2_000, obtainedAt: 1_000, lastRefresh: { at: 1_000, outcome: 'ok' }, needsSignIn: false,
};
const discovery: StoredDiscovery = {
  serverUrl: binding.serverUrl, resource: credential.resource, resourceMetadataUrl: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
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

  it('keeps two accounts of one server apart, lists them per server, and lists every server\'s', async () => {
    const bob: Credential = { ...credential, account: 'bob', subject: 'bob-sub', accessToken: 'bob-access-token' };
    const elsewhere: Credential = { ...credential, serverUrl: 'https://other.example/mcp' };
    for (const record of [credential, bob, elsewhere]) await repository.putCredential(record);
    assert.deepEqual(await repository.getCredential(binding), credential);
    assert.deepEqual(await repository.getCredential(bob), bob);
    assert.deepEqual((await repository.listCredentials(binding.serverUrl)).map((each) => each.account).sort(), ['alice', 'bob']);
    assert.equal((await repository.listAllCredentials()).length, 3);
  });

  it('tells an account by its subject where known: a new label is the same account, a new subject another', async () => {
    await repository.putCredential(credential);
    assert.deepEqual(await repository.getCredential({ ...binding, account: 'alice@example.com' }), credential);
    assert.equal(await repository.getCredential({ ...binding, subject: 'bob-sub' }), undefined);
    assert.equal(await repository.getCredential({ ...binding, subject: undefined }), undefined);
  });

  it('reads back a server\'s preferred account', async () => {
    const preferred = { serverUrl: binding.serverUrl, accountId: await accountId(binding) };
    await repository.putPreferred(preferred);
    assert.deepEqual(await repository.getPreferred(binding.serverUrl), preferred);
    assert.equal(await repository.getPreferred('https://other.example/mcp'), undefined);
  });

  it('waits for the migration of older records before any access', async () => {
    let finish!: () => void;
    const waiting = new KeyringRepository(store, new Promise<void>((resolve) => { finish = resolve; }));
    store.values.set(await credentialKey(binding), JSON.stringify(credential));
    let read: Credential | undefined | 'pending' = 'pending';
    const reading = waiting.getCredential(binding).then((value) => { read = value; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(read, 'pending');
    finish();
    await reading;
    assert.deepEqual(read, credential);
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
    await repository.putPreferred({ serverUrl: binding.serverUrl, accountId: 'x' });
    await repository.putCredential(credential);
    await repository.putDiscovery(discovery);
    await repository.deleteClient(client.issuer, client.clientId);
    await repository.deletePreferred(binding.serverUrl);
    await repository.deleteCredential(binding);
    await repository.deleteDiscovery(discovery.serverUrl);
    assert.equal(store.values.size, 0);
  });

  it('keys credentials so that parts containing separators cannot collide', async () => {
    const a = await credentialKey({ serverUrl: 'https://h/a', issuer: 'x', account: 'y","z' });
    const b = await credentialKey({ serverUrl: 'https://h/a', issuer: 'x","y', account: 'z' });
    assert.notEqual(a, b);
  });

  it('keeps server URLs, their queries and account names out of every key, and tells servers apart by query', async () => {
    const withKey: Credential = { ...credential, serverUrl: 'https://mcp.example/mcp?api_key=query-secret', account: 'alice@example.com' };
    const otherQuery: Credential = { ...withKey, serverUrl: 'https://mcp.example/mcp?api_key=other-secret' };
    for (const record of [withKey, otherQuery]) {
      await repository.putCredential(record);
      await repository.putPreferred({ serverUrl: record.serverUrl, accountId: await accountId(record) });
      await repository.putDiscovery({ ...discovery, serverUrl: record.serverUrl });
    }
    const keys = [...store.values.keys()];
    assert.equal(keys.length, 6);
    for (const key of keys) assert.ok(!/secret|mcp\.example|alice/.test(key), key);
    assert.notEqual(await serverKeyId(withKey.serverUrl), await serverKeyId(otherQuery.serverUrl));
    assert.equal((await repository.listCredentials(withKey.serverUrl)).length, 1);
  });

  it('parses an unchanged record once, and reads a record changed in the store (by anyone) anew', async () => {
    await repository.putCredential(credential);
    const first = await repository.getCredential(binding);
    assert.equal(await repository.getCredential(binding), first, 'the same text hands out the same parsed record');
    // Another window or process writes the store directly.
    store.values.set(await credentialKey(binding), JSON.stringify({ ...credential, accessToken: 'access-2' }));
    assert.equal((await repository.getCredential(binding))?.accessToken, 'access-2');
    store.values.set(await credentialKey(binding), '{"accessToken":"leaked-token-value"');
    await rejectsWithCode(repository.getCredential(binding), 'store_failed');
    store.values.delete(await credentialKey(binding));
    assert.equal(await repository.getCredential(binding), undefined);
  });

  it('fails with store_failed on a record that is not JSON, without echoing it', async () => {
    store.values.set(await credentialKey(binding), '{"accessToken":"leaked-token-value"');
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
    ['a missing server URL', { ...credential, serverUrl: undefined }],
    ['a subject that is a number', { ...credential, subject: 7 }],
  ];
  for (const [name, value] of wrongCredentials) {
    it(`fails with store_failed on a credential with ${name}, without echoing it`, async () => {
      store.values.set(await credentialKey(binding), JSON.stringify(value));
      const error = await rejectsWithCode(repository.getCredential(binding), 'store_failed');
      assert.ok(!error.message.includes('leaked-token-value') && !error.message.includes('access-token-value'), error.message);
    });
  }

  const discoveryKey = async () => `discovery/${await serverKeyId(discovery.serverUrl)}`;
  const wrongOthers: [string, (repository: KeyringRepository) => Promise<unknown>, string | (() => Promise<string>), unknown][] = [
    ['a client without redirect URIs', (repo) => repo.getClient(client.issuer, client.clientId), `client:${JSON.stringify([client.issuer, client.clientId])}`, { ...client, redirectUris: undefined }],
    ['a client secret that is not a string', (repo) => repo.getClient(client.issuer, client.clientId), `client:${JSON.stringify([client.issuer, client.clientId])}`, { ...client, clientSecret: { value: 'client-secret-value' } }],
    ['a preferred account without its id', (repo) => repo.getPreferred(binding.serverUrl), async () => `preferred/${await serverKeyId(binding.serverUrl)}`, { serverUrl: binding.serverUrl }],
    ['a listed credential of the wrong shape', (repo) => repo.listAllCredentials(), async () => `credential/${await serverKeyId(binding.serverUrl)}/${'0'.repeat(32)}`, { serverUrl: 3 }],
    ['a discovery whose authorization server has no issuer', (repo) => repo.getDiscovery(discovery.serverUrl), discoveryKey, { ...discovery, authorizationServer: { token_endpoint: 'https://as.example/token' } }],
    ['a discovery whose remembered challenge has a parameter that is not a string', (repo) => repo.getDiscovery(discovery.serverUrl), discoveryKey, { ...discovery, challenge: { scheme: 'bearer', params: { scope: ['read'] } } }],
    ['a discovery whose remembered challenge has no scheme', (repo) => repo.getDiscovery(discovery.serverUrl), discoveryKey, { ...discovery, challenge: { params: {} } }],
    ['a discovery kept under an address class that does not exist', (repo) => repo.getDiscovery(discovery.serverUrl), discoveryKey, { ...discovery, serverAddressClass: 'anywhere' }],
    ['a discovery whose authorization server is null', (repo) => repo.getDiscovery(discovery.serverUrl), discoveryKey, { ...discovery, authorizationServer: null }],
  ];
  for (const [name, read, key, value] of wrongOthers) {
    it(`fails with store_failed on ${name}`, async () => {
      store.values.set(typeof key === 'string' ? key : await key(), JSON.stringify(value));
      const error = await rejectsWithCode(read(repository), 'store_failed');
      assert.ok(!error.message.includes('client-secret-value'), error.message);
    });
  }
});

describe('decodeStoreKey', () => {
  it('reads the server and account ids of a credential key, and the server id of a preference key', async () => {
    const store = new MemoryStore();
    const repository = new KeyringRepository(store);
    await repository.putCredential(credential);
    await repository.putPreferred({ serverUrl: credential.serverUrl, accountId: 'x' });
    const serverId = await serverKeyId(credential.serverUrl);
    assert.deepEqual([...store.values.keys()].map(decodeStoreKey), [
      { kind: 'credential', serverId, accountId: await accountId(credential) },
      { kind: 'preferred', serverId },
    ]);
  });

  const others = ['discovery/0123456789abcdef0123456789abcdef', 'client:["x","y"]', 'credential/not-hex/0123', 'credential:["a","b","c","d"]', 'server:https://h/mcp', 'preferred/ABC'];
  for (const key of others) {
    it(`takes ${key} for something else`, () => assert.deepEqual(decodeStoreKey(key), { kind: 'other' }));
  }
});
