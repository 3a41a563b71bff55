import assert from 'node:assert/strict';
import { isKeyringError } from '../../../src/core/errors';
import { SECRET_KEY_PREFIX } from '../../../src/vscode/ids';
import type { LeaseOptions } from '../../../src/vscode/secretStorageLease';
import { SecretStorageStore, type SecretStorageStoreOptions } from '../../../src/vscode/secretStorageStore';
import { deferred, FakeTime, flush } from '../core/fakes';
import { RecordingLogger, SecretBackend, type FakeSecretStorage } from './fakes';

/** Short lease timings, so lock tests run on real timers in milliseconds. */
const QUICK_LEASE: Partial<LeaseOptions> = { leaseMs: 2_000, renewEveryMs: 500, settleMs: 10, timeoutMs: 5_000, firstRetryMs: 2, longestRetryMs: 20 };
const RECORD = 'credential:["https://mcp.example/","https://as.example","client","alice"]';
const LEASE_NAME = `${SECRET_KEY_PREFIX}lease/${RECORD}`;

function storeFor(secrets: FakeSecretStorage, options: Partial<SecretStorageStoreOptions> = {}): SecretStorageStore {
  return new SecretStorageStore({ secrets, logger: new RecordingLogger(), ownerId: secrets.name, lease: QUICK_LEASE, ...options });
}

function pause(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

describe('SecretStorageStore', () => {
  const stores: SecretStorageStore[] = [];
  const track = (store: SecretStorageStore): SecretStorageStore => (stores.push(store), store);
  afterEach(() => stores.splice(0).forEach((store) => store.dispose()));

  describe('records', () => {
    it('stores each record under the extension prefix and reads it back', async () => {
      const backend = new SecretBackend();
      const store = track(storeFor(backend.window('A')));
      await store.set('server:https://mcp.example/', '{"a":1}');
      assert.equal(await store.get('server:https://mcp.example/'), '{"a":1}');
      assert.deepEqual([...backend.values.keys()], [`${SECRET_KEY_PREFIX}store/server:https://mcp.example/`]);
    });

    it('lists its own records by prefix, sorted, and nothing else kept in SecretStorage', async () => {
      const backend = new SecretBackend();
      backend.values.set(`${SECRET_KEY_PREFIX}clientSecret/https://mcp.example/`, 'not a record');
      backend.values.set(LEASE_NAME, '{}');
      const store = track(storeFor(backend.window('A')));
      await store.set('server:b', '1');
      await store.set('server:a', '2');
      await store.set('client:x', '3');
      assert.deepEqual(await store.keys('server:'), ['server:a', 'server:b']);
      assert.deepEqual(await store.keys(''), ['client:x', 'server:a', 'server:b']);
    });

    it('forgets a deleted record', async () => {
      const backend = new SecretBackend();
      const store = track(storeFor(backend.window('A')));
      await store.set('server:a', '1');
      await store.delete('server:a');
      assert.equal(await store.get('server:a'), undefined);
      assert.deepEqual(await store.keys('server:'), []);
      assert.equal(backend.values.size, 0);
    });

    it('answers repeated reads from its cache, without asking SecretStorage again', async () => {
      const backend = new SecretBackend();
      backend.values.set(`${SECRET_KEY_PREFIX}store/server:a`, '1');
      const secrets = backend.window('A');
      const store = track(storeFor(secrets));
      assert.equal(await store.get('server:a'), '1');
      assert.equal(await store.get('server:missing'), undefined);
      const calls = secrets.calls;
      for (let read = 0; read < 5; read++) {
        assert.equal(await store.get('server:a'), '1');
        assert.equal(await store.get('server:missing'), undefined);
      }
      assert.equal(secrets.calls, calls);
    });

    it('drops a cached value when another window writes it, and tells its listeners', async () => {
      const backend = new SecretBackend();
      const windowA = track(storeFor(backend.window('A')));
      const windowB = track(storeFor(backend.window('B')));
      await windowA.set('server:a', 'old');
      assert.equal(await windowA.get('server:a'), 'old');
      await flush();
      const seen: string[] = [];
      windowA.onDidChange((key) => seen.push(key));
      await windowB.set('server:a', 'new');
      await flush();
      assert.equal(await windowA.get('server:a'), 'new');
      assert.deepEqual(seen, ['server:a']);
    });

    it('tells apart changes made by another window from the echoes of its own writes', async () => {
      const backend = new SecretBackend();
      const windowA = track(storeFor(backend.window('A')));
      const windowB = track(storeFor(backend.window('B')));
      const fromOthersA: string[] = [];
      const fromOthersB: string[] = [];
      windowA.onDidChangeInAnotherWindow((key) => fromOthersA.push(key));
      windowB.onDidChangeInAnotherWindow((key) => fromOthersB.push(key));
      await windowA.set('credential:x', 'rotated');
      await windowA.delete('server:gone');
      await flush();
      await windowB.set('credential:x', 'rotated again');
      await flush();
      assert.deepEqual(fromOthersA, ['credential:x']);
      assert.deepEqual(fromOthersB, ['credential:x', 'server:gone']);
    });

    it('sees records another window added or removed when it lists them', async () => {
      const backend = new SecretBackend();
      const windowA = track(storeFor(backend.window('A')));
      const windowB = track(storeFor(backend.window('B')));
      await windowA.set('server:a', '1');
      assert.deepEqual(await windowA.keys('server:'), ['server:a']);
      await windowB.set('server:b', '2');
      await windowB.delete('server:a');
      await flush();
      assert.deepEqual(await windowA.keys('server:'), ['server:b']);
    });

    it('does not cache a value read just before another window replaced it', async () => {
      const backend = new SecretBackend();
      backend.values.set(`${SECRET_KEY_PREFIX}store/server:a`, 'old');
      const windowA = track(storeFor(backend.window('A')));
      const windowB = track(storeFor(backend.window('B')));
      const heldBack = deferred();
      backend.beforeAnswer = (operation) => (operation === 'A get mcpKeyring/store/server:a' ? heldBack.promise : Promise.resolve());
      const staleRead = windowA.get('server:a');
      await flush();
      await windowB.set('server:a', 'new');
      await flush();
      heldBack.resolve();
      assert.equal(await staleRead, 'old');
      backend.beforeAnswer = undefined;
      assert.equal(await windowA.get('server:a'), 'new');
    });

    it('does not announce lease changes as record changes', async () => {
      const backend = new SecretBackend();
      const store = track(storeFor(backend.window('A')));
      const seen: string[] = [];
      store.onDidChange((key) => seen.push(key));
      await store.withLock(RECORD, () => store.set(RECORD, '1'));
      await flush();
      assert.deepEqual(seen, [RECORD]);
    });

    it('reports SecretStorage failures as store_failed', async () => {
      const backend = new SecretBackend();
      const store = track(storeFor(backend.window('A')));
      backend.failure = new Error('keychain locked');
      for (const attempt of [() => store.get('x'), () => store.set('x', '1'), () => store.delete('x'), () => store.keys('')]) {
        await assert.rejects(attempt(), (error) => isKeyringError(error, 'store_failed'));
      }
    });

    it('stops listening to SecretStorage when disposed', () => {
      const secrets = new SecretBackend().window('A');
      const store = storeFor(secrets);
      assert.equal(secrets.listenerCount, 1);
      store.dispose();
      assert.equal(secrets.listenerCount, 0);
    });
  });

  describe('withLock', () => {
    /** Work that records how many holders are inside at once, with async steps in between. */
    function probe(): { work: (label: string) => () => Promise<string>; readonly most: number; readonly order: string[] } {
      let inside = 0;
      let most = 0;
      const order: string[] = [];
      return {
        work: (label) => async () => {
          inside++;
          most = Math.max(most, inside);
          order.push(`start ${label}`);
          await flush(3);
          await pause(1);
          order.push(`end ${label}`);
          inside--;
          return label;
        },
        get most() {
          return most;
        },
        order,
      };
    }

    it('runs work of one window one after another, in call order', async () => {
      const store = track(storeFor(new SecretBackend().window('A')));
      const { work, order } = probe();
      const results = await Promise.all(['1', '2', '3'].map((label) => store.withLock(RECORD, work(label))));
      assert.deepEqual(results, ['1', '2', '3']);
      assert.deepEqual(order, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    });

    it('never lets two windows sharing one SecretStorage run work on the same key at once', async () => {
      // Each SecretStorage call takes 0–3 event-loop turns each way, so the windows' steps interleave differently each time.
      const backend = new SecretBackend(() => Math.floor(Math.random() * 4));
      const windowA = track(storeFor(backend.window('A')));
      const windowB = track(storeFor(backend.window('B')));
      const windowC = track(storeFor(backend.window('C')));
      const checker = probe();
      const calls = [windowA, windowB, windowC].flatMap((store, index) =>
        [0, 1, 2, 3].map((round) => store.withLock(RECORD, checker.work(`${index}.${round}`))),
      );
      const results = await Promise.all(calls);
      assert.equal(results.length, 12);
      assert.equal(checker.most, 1);
      assert.equal(backend.values.has(LEASE_NAME), false, 'the last holder released the lease');
    });

    it('lets exactly one of two windows in when both find the lock free at the same moment', async () => {
      const backend = new SecretBackend();
      const windowA = track(storeFor(backend.window('A')));
      const windowB = track(storeFor(backend.window('B')));
      const checker = probe();
      await Promise.all([windowA.withLock(RECORD, checker.work('A')), windowB.withLock(RECORD, checker.work('B'))]);
      const leaseOperations = backend.operations.filter((operation) => operation.endsWith(LEASE_NAME));
      // Both read "free" and both wrote a lease before either read back: the contended case really happened.
      assert.deepEqual(leaseOperations.slice(0, 4), [`A get ${LEASE_NAME}`, `B get ${LEASE_NAME}`, `A store ${LEASE_NAME}`, `B store ${LEASE_NAME}`]);
      assert.equal(checker.most, 1);
      assert.deepEqual(checker.order, ['start B', 'end B', 'start A', 'end A']);
    });

    it('takes over the lease of a window that stopped renewing it once it expires', async () => {
      const time = new FakeTime(Date.now());
      const backend = new SecretBackend();
      backend.values.set(LEASE_NAME, JSON.stringify({ owner: 'crashed', token: 'crashed:1', expiresAt: time.now() + 30_000 }));
      const logger = new RecordingLogger();
      const store = track(storeFor(backend.window('A'), { clock: time, logger, lease: { ...QUICK_LEASE, timeoutMs: 60_000 } }));
      let hasRun = false;
      const locked = store.withLock(RECORD, () => {
        hasRun = true;
        return Promise.resolve();
      });
      await pause(50);
      assert.equal(hasRun, false, 'waits while the lease is still valid');
      time.jumpWallClock(30_001);
      await locked;
      assert.equal(hasRun, true);
      assert.ok(logger.lines.some((line) => line.includes('taking over an expired lock lease')));
      assert.equal(backend.values.has(LEASE_NAME), false);
    });

    it('fails with timeout while another window holds a live lease', async () => {
      const backend = new SecretBackend();
      backend.values.set(LEASE_NAME, JSON.stringify({ owner: 'B', token: 'B:1', expiresAt: Date.now() + 60_000 }));
      const store = track(storeFor(backend.window('A'), { lease: { ...QUICK_LEASE, timeoutMs: 100 } }));
      let hasRun = false;
      await assert.rejects(store.withLock(RECORD, () => {
        hasRun = true;
        return Promise.resolve();
      }), (error) => isKeyringError(error, 'timeout'));
      assert.equal(hasRun, false);
      assert.equal(JSON.parse(backend.values.get(LEASE_NAME)!).owner, 'B', 'the holder keeps its lease');
    });

    it('renews its lease while long work runs, so other windows keep waiting', async () => {
      // Wall time (which decides expiry) runs far ahead of real time here: 100 s pass while the work runs, more than
      // three leases long, and only renewals every 10 ms of real time keep the lease alive.
      const time = new FakeTime(Date.now());
      const backend = new SecretBackend();
      const lease = { ...QUICK_LEASE, leaseMs: 30_000, renewEveryMs: 10, timeoutMs: 600_000 };
      const windowA = track(storeFor(backend.window('A'), { clock: time, lease }));
      const windowB = track(storeFor(backend.window('B'), { clock: time, lease }));
      const order: string[] = [];
      const isDone = deferred();
      const long = windowA.withLock(RECORD, async () => {
        order.push('A starts');
        await isDone.promise;
        order.push('A ends');
      });
      await pause(20);
      const waiting = windowB.withLock(RECORD, () => {
        order.push('B runs');
        return Promise.resolve();
      });
      for (let step = 0; step < 10; step++) {
        time.jumpWallClock(10_000);
        await pause(40);
      }
      isDone.resolve();
      await Promise.all([long, waiting]);
      assert.deepEqual(order, ['A starts', 'A ends', 'B runs']);
    });

    it('releases only its own lease, not one another window has since written', async () => {
      const backend = new SecretBackend();
      const logger = new RecordingLogger();
      const store = track(storeFor(backend.window('A'), { logger, lease: { ...QUICK_LEASE, renewEveryMs: 20 } }));
      const foreign = JSON.stringify({ owner: 'B', token: 'B:7', expiresAt: Date.now() + 60_000 });
      await store.withLock(RECORD, async () => {
        backend.put(LEASE_NAME, foreign);
        await pause(60);
      });
      assert.equal(backend.values.get(LEASE_NAME), foreign);
      assert.ok(logger.lines.some((line) => line.includes('another window took over a lock lease')));
    });

    it('wakes a waiting window as soon as the holder releases, without waiting out its backoff', async () => {
      const backend = new SecretBackend();
      const slowPolling = { ...QUICK_LEASE, firstRetryMs: 2_000, longestRetryMs: 2_000 };
      const windowA = track(storeFor(backend.window('A'), { lease: slowPolling }));
      const windowB = track(storeFor(backend.window('B'), { lease: slowPolling }));
      const release = deferred();
      const holding = windowA.withLock(RECORD, () => release.promise);
      await pause(30);
      const started = Date.now();
      const waiting = windowB.withLock(RECORD, () => Promise.resolve(Date.now()));
      await pause(30);
      release.resolve();
      const ranAt = await waiting;
      await holding;
      assert.ok(ranAt - started < 1_000, `waited ${ranAt - started} ms`);
    });

    it('passes on the work\'s failure and still releases the lock', async () => {
      const backend = new SecretBackend();
      const store = track(storeFor(backend.window('A')));
      await assert.rejects(store.withLock(RECORD, () => Promise.reject(new Error('boom'))), /boom/);
      assert.equal(backend.values.has(LEASE_NAME), false);
      assert.equal(await store.withLock(RECORD, () => Promise.resolve('next')), 'next');
    });
  });
});
