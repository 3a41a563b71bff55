import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/ports';
import { accountId, KeyringRepository, serverKeyId, type Credential } from '../../../src/core/records';
import { migrateLegacyRecords } from '../../../src/core/storeMigration';
import { MemoryStore } from './fakes';

const serverUrl = 'https://mcp.example/mcp?tenant=query-key';
const legacyBinding = { serverUrl, resource: serverUrl, issuer: 'https://as.example', clientId: 'client-1', account: 'alice' };
const legacyCredential = {
  resource: serverUrl, issuer: 'https://as.example', clientId: 'client-1', account: 'alice', accessToken: 'access-1', refreshToken: 'refresh-1',
  tokenType: 'bearer', scopes: ['read'], expiresAt: 5_000, obtainedAt: 1_000, needsSignIn: false,
};
const legacyCredentialKey = `credential:${JSON.stringify([serverUrl, 'https://as.example', 'client-1', 'alice'])}`;

/** A store as the version before accounts left it: one server, its binding, its credential, a discovery. */
function legacyStore(): MemoryStore {
  const store = new MemoryStore();
  store.values.set(`server:${serverUrl}`, JSON.stringify(legacyBinding));
  store.values.set(legacyCredentialKey, JSON.stringify(legacyCredential));
  store.values.set(`discovery:${serverUrl}`, JSON.stringify({ serverUrl }));
  store.values.set('client:["https://as.example","client-1"]', JSON.stringify({ issuer: 'https://as.example', clientId: 'client-1' }));
  return store;
}

describe('moving records of the previous store layout', function () {
  it('keeps the person signed in: the credential becomes the server\'s preferred account, unchanged', async function () {
    const store = legacyStore();
    const repository = new KeyringRepository(store, migrateLegacyRecords(store, silentLogger));
    const [moved, ...others] = await repository.listCredentials(serverUrl);
    assert.equal(others.length, 0);
    assert.deepEqual(moved, { ...legacyCredential, serverUrl });
    assert.deepEqual(await repository.getPreferred(serverUrl), { serverUrl, accountId: await accountId(moved) });
  });

  it('leaves no key holding the URL behind, keeps client records, and forgets the cached discovery', async function () {
    const store = legacyStore();
    await migrateLegacyRecords(store, silentLogger);
    const keys = [...store.values.keys()].sort();
    const serverId = await serverKeyId(serverUrl);
    assert.deepEqual(keys, ['client:["https://as.example","client-1"]', `credential/${serverId}/${await accountId(legacyCredential)}`, `preferred/${serverId}`].sort());
  });

  it('lets a legacy credential refreshed later (by a window still on the old version) win over an older moved copy', async function () {
    const store = legacyStore();
    await migrateLegacyRecords(store, silentLogger);
    store.values.set(`server:${serverUrl}`, JSON.stringify(legacyBinding));
    store.values.set(legacyCredentialKey, JSON.stringify({ ...legacyCredential, accessToken: 'access-2', refreshToken: 'refresh-2', obtainedAt: 2_000 }));
    await migrateLegacyRecords(store, silentLogger);
    const [moved] = await new KeyringRepository(store).listCredentials(serverUrl);
    assert.equal((moved as Credential).refreshToken, 'refresh-2');
  });

  it('moves nothing twice when two processes start at once', async function () {
    const store = legacyStore();
    await Promise.all([migrateLegacyRecords(store, silentLogger), migrateLegacyRecords(store, silentLogger)]);
    assert.equal((await new KeyringRepository(store).listAllCredentials()).length, 1);
    assert.equal([...store.values.keys()].filter((key) => key.includes('mcp.example')).length, 0);
  });

  it('leaves a damaged legacy record in place for the next start instead of failing every access', async function () {
    const store = legacyStore();
    store.values.set(`server:${serverUrl}`, '{not json');
    const repository = new KeyringRepository(store, migrateLegacyRecords(store, silentLogger));
    assert.deepEqual(await repository.listAllCredentials(), []);
    assert.ok(store.values.has(`server:${serverUrl}`));
  });
});
