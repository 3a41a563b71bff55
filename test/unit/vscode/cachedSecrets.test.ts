import assert from 'node:assert/strict';
import { CachedSecrets } from '../../../src/vscode/cachedSecrets';
import { flush } from '../core/fakes';
import { SecretBackend } from './fakes';

const KEY = 'mcpKeyring/clientSecret/https://a.example/mcp';

describe('CachedSecrets', () => {
  it('reads a secret from SecretStorage once, however often it is asked for (concurrently too)', async () => {
    const backend = new SecretBackend(() => 2);
    const window = backend.window('A');
    backend.values.set(KEY, 'secret-1');
    const cached = new CachedSecrets(window);
    assert.deepEqual(await Promise.all([cached.get(KEY), cached.get(KEY)]), ['secret-1', 'secret-1']);
    assert.equal(await cached.get(KEY), 'secret-1');
    assert.equal(window.calls, 1);
    cached.dispose();
  });

  it('reads its own write back, and forgets a deleted secret', async () => {
    const cached = new CachedSecrets(new SecretBackend().window('A'));
    assert.equal(await cached.get(KEY), undefined);
    await cached.store(KEY, 'secret-2');
    assert.equal(await cached.get(KEY), 'secret-2');
    await cached.delete(KEY);
    assert.equal(await cached.get(KEY), undefined);
    cached.dispose();
  });

  it('follows a change made in another window, through the change event', async () => {
    const backend = new SecretBackend();
    const cached = new CachedSecrets(backend.window('A'));
    backend.values.set(KEY, 'old');
    assert.equal(await cached.get(KEY), 'old');
    backend.put(KEY, 'new');
    await flush();
    assert.equal(await cached.get(KEY), 'new');
    cached.dispose();
  });

  it('does not keep a failed read', async () => {
    const backend = new SecretBackend();
    const cached = new CachedSecrets(backend.window('A'));
    backend.failure = new Error('keychain locked');
    await assert.rejects(cached.get(KEY), /keychain locked/);
    backend.failure = undefined;
    backend.values.set(KEY, 'secret-3');
    assert.equal(await cached.get(KEY), 'secret-3');
    cached.dispose();
  });

  it('stops listening when disposed', () => {
    const window = new SecretBackend().window('A');
    new CachedSecrets(window).dispose();
    assert.equal(window.listenerCount, 0);
  });
});
