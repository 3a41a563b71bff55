// The engine composed as the command line composes it (file store, loopback receiver, Node's fetch with its
// connections checked by the guarded network), with the scripted browser as the person — for tests that drive the
// engine's API directly.
import { Keyring, type KeyringDeps } from '../../src/core/keyring';
import { FileStore } from '../../src/node/fileStore';
import { createGuardedNetwork } from '../../src/node/guardedNetwork';
import { LoopbackReceiver } from '../../src/node/loopbackReceiver';
import { silentLogger, type KeyringStore } from '../../src/core/ports';
import type { TestBrowser } from '../fixtures/testBrowser';

export async function createTestKeyring(storeDirectory: string, browser: TestBrowser, extra: Partial<KeyringDeps> = {}): Promise<Keyring> {
  return createKeyringOver(await FileStore.open(storeDirectory), browser, fetch, extra);
}

/** The same composition over any store (benchmarks compare stores). */
export function createKeyringOver(store: KeyringStore, browser: TestBrowser, fetchFn: typeof fetch = fetch, extra: Partial<KeyringDeps> = {}): Keyring {
  return Keyring.create({
    store,
    fetch: (input, init) => fetchFn(input, init),
    network: createGuardedNetwork({ fetch: (input, init) => fetchFn(input, init) }),
    openUrl: (url) => browser.open(url),
    createReceiver: (context) => LoopbackReceiver.start({ preferredPorts: context.registeredLoopbackPorts, logger: silentLogger, timeoutMs: 20_000 }),
    timeoutMs: 10_000,
    ...extra,
  });
}
