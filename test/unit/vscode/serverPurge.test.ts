import assert from 'node:assert/strict';
import { serverKeyId } from '../../../src/core/records';
import { KeyringError } from '../../../src/core/errors';
import { ClientSecrets, GrantSecrets, StaticCredentials } from '../../../src/vscode/serverSecrets';
import { toConfiguredServer, type ConfiguredServer } from '../../../src/vscode/configuredServer';
import { StateKeys } from '../../../src/vscode/ids';
import type { CredentialChange } from '../../../src/core/events';
import { purgeServer, SettingsPurge, type PurgeRegistry } from '../../../src/vscode/serverPurge';
import type { ServerEntry } from '../../../src/vscode/serverEntry';
import { RecordingLogger, SecretBackend } from './fakes';

const A = 'https://a.example/mcp';
const B = 'https://b.example/mcp';

/** User and workspace settings as the registry reads them, and its change event. */
class FakeRegistry implements PurgeRegistry {
  user: ServerEntry[] = [];
  workspace: ServerEntry[] = [];
  private readonly listeners = new Set<() => void>();

  userServers(): ConfiguredServer[] {
    return configured(this.user);
  }

  list(): ConfiguredServer[] {
    return configured([...this.workspace, ...this.user]);
  }

  readonly onDidChange = (listener: () => void) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  /** Edits the user settings and announces it, as the editor does. */
  edit(user: ServerEntry[]): void {
    this.user = user;
    for (const listener of this.listeners) listener();
  }
}

function configured(entries: readonly ServerEntry[]): ConfiguredServer[] {
  return entries.map((entry) => toConfiguredServer(entry)!);
}

class FakeMemento {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
}

function watcher(registry: FakeRegistry, memento = new FakeMemento()) {
  const purged: string[] = [];
  const purge = new SettingsPurge({ registry, memento, purge: (url) => (purged.push(url), Promise.resolve()), logger: new RecordingLogger() });
  return { purge, purged, memento };
}

describe('SettingsPurge', () => {
  it('purges a server removed from the user settings, and only that one', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A }, { url: B }];
    const { purge, purged } = watcher(registry);
    await purge.reconcile();
    registry.edit([{ url: B }]);
    await purge.reconcile();
    assert.deepEqual(purged, [A]);
    purge.dispose();
  });

  it('purges the old URL when an entry’s url is edited', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A, label: 'Mine' }];
    const { purge, purged } = watcher(registry);
    await purge.reconcile();
    registry.edit([{ url: 'https://a.example/other', label: 'Mine' }]);
    await purge.reconcile();
    assert.deepEqual(purged, [A]);
    purge.dispose();
  });

  const clientChanges: { change: string; before: Partial<ServerEntry>; after: Partial<ServerEntry>; purges: boolean }[] = [
    { change: 'a client id added', before: {}, after: { clientId: 'pre' }, purges: true },
    { change: 'a client id changed', before: { clientId: 'one' }, after: { clientId: 'two' }, purges: true },
    { change: 'a client id removed', before: { clientId: 'one' }, after: {}, purges: true },
    { change: 'the client authentication method changed', before: { clientId: 'one', clientAuthMethod: 'client_secret_basic' }, after: { clientId: 'one', clientAuthMethod: 'client_secret_post' }, purges: true },
    { change: 'a machine grant configured', before: { clientId: 'one' }, after: { clientId: 'one', grant: 'client_credentials' }, purges: true },
    { change: 'the machine grant changed', before: { clientId: 'one', grant: 'client_credentials' }, after: { clientId: 'one', grant: 'jwt-bearer' }, purges: true },
    { change: 'DPoP switched on', before: { clientId: 'one' }, after: { clientId: 'one', dpop: true }, purges: false },
    { change: 'the label changed', before: { label: 'x' }, after: { label: 'y' }, purges: false },
    { change: 'the scopes changed', before: { scopes: ['a'] }, after: { scopes: ['a', 'b'] }, purges: false },
    { change: 'the redirect preference changed', before: {}, after: { redirect: 'loopback' }, purges: false },
    { change: 'the url was spelled differently (same canonical URL)', before: {}, after: { url: 'HTTPS://A.example/mcp' }, purges: false },
  ];
  for (const { change, before, after, purges } of clientChanges) {
    it(`${purges ? 'purges' : 'keeps'} the credential when ${change}`, async () => {
      const registry = new FakeRegistry();
      registry.user = [{ url: A, ...before }];
      const { purge, purged } = watcher(registry);
      await purge.reconcile();
      registry.edit([{ url: A, ...after }]);
      await purge.reconcile();
      assert.deepEqual(purged, purges ? [A] : []);
      purge.dispose();
    });
  }

  it('purges what was removed while the editor was closed, at the next start', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A }, { url: B }];
    const first = watcher(registry);
    await first.purge.reconcile();
    first.purge.dispose();

    registry.user = [{ url: B }];
    const second = watcher(registry, first.memento);
    await second.purge.reconcile();
    assert.deepEqual(second.purged, [A]);
    second.purge.dispose();
  });

  it('purges nothing on its first run: there is nothing to compare with', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A }];
    const { purge, purged, memento } = watcher(registry);
    await purge.reconcile();
    assert.deepEqual(purged, []);
    assert.deepEqual(Object.keys(memento.get<Record<string, string>>(StateKeys.userServers) ?? {}), ['https://a.example/mcp']);
    purge.dispose();
  });

  it('keeps a server removed from the user settings while this window’s workspace still lists it the same way', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A }];
    registry.workspace = [{ url: A }];
    const { purge, purged } = watcher(registry);
    await purge.reconcile();
    registry.edit([]);
    await purge.reconcile();
    assert.deepEqual(purged, []);
    purge.dispose();
  });

  it('never purges for workspace entries coming and going (another window may use them)', async () => {
    const registry = new FakeRegistry();
    registry.workspace = [{ url: A }];
    const { purge, purged } = watcher(registry);
    await purge.reconcile();
    registry.workspace = [];
    registry.edit([]);
    await purge.reconcile();
    assert.deepEqual(purged, []);
    purge.dispose();
  });

  it('runs reconciliations one at a time: two quick edits purge each server once', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A }, { url: B }];
    const memento = new FakeMemento();
    const purged: string[] = [];
    let running = 0;
    let overlapped = false;
    const purge = new SettingsPurge({
      registry,
      memento,
      logger: new RecordingLogger(),
      purge: async (url) => {
        overlapped ||= running > 0;
        running++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        purged.push(url);
        running--;
      },
    });
    await purge.reconcile();
    registry.edit([{ url: B }]);
    registry.edit([]);
    await purge.reconcile();
    assert.deepEqual(purged, [A, B]);
    assert.equal(overlapped, false);
    purge.dispose();
  });

  it('stops watching when disposed', async () => {
    const registry = new FakeRegistry();
    registry.user = [{ url: A }];
    const { purge, purged } = watcher(registry);
    await purge.reconcile();
    purge.dispose();
    registry.edit([]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(purged, []);
  });
});

describe('purgeServer', () => {
  const canonical = 'https://a.example/mcp';

  function targets(signOut: (url: string) => Promise<unknown>) {
    const backend = new SecretBackend();
    const secrets = backend.window('A');
    const logger = new RecordingLogger();
    /** What the secret store held each time the purge announced itself. */
    const announced: { change: CredentialChange; keysLeft: string[] }[] = [];
    return {
      backend,
      logger,
      announced,
      targets: {
        keyring: { signOut: signOut as never }, clientSecrets: new ClientSecrets(secrets), grantSecrets: new GrantSecrets(secrets), staticCredentials: new StaticCredentials(secrets), logger,
        announce: (change: CredentialChange) => announced.push({ change, keysLeft: [...backend.values.keys()] }),
      },
    };
  }

  it('announces the purge once, after everything is deleted, so that a caller can tell it is done', async () => {
    const { announced, targets: deps } = targets(() => Promise.resolve());
    await deps.clientSecrets.set(canonical, 'client-secret');
    await deps.staticCredentials.set(canonical, 'api-key');
    await purgeServer(deps, canonical);
    assert.deepEqual(announced, [{ change: { serverUrl: canonical, kind: 'purged' }, keysLeft: [] }]);
  });

  it('signs out and deletes the client secret, the grant secrets and the static credential of that server only', async () => {
    const signedOut: string[] = [];
    const { backend, targets: deps } = targets((url) => (signedOut.push(url), Promise.resolve()));
    await deps.clientSecrets.set(canonical, 'client-secret');
    await deps.grantSecrets.of('privateKey').set(canonical, 'pem');
    await deps.grantSecrets.of('idpIdToken').set(canonical, 'id-token');
    await deps.staticCredentials.set(canonical, 'api-key');
    await deps.staticCredentials.set('https://b.example/mcp', 'other-key');
    await purgeServer(deps, canonical);
    assert.deepEqual(signedOut, [canonical]);
    assert.deepEqual([...backend.values.keys()], [`mcpKeyring/staticCredential/${await serverKeyId('https://b.example/mcp')}`]);
  });

  it('is quiet about a server it was never signed in to', async () => {
    const { backend, logger, targets: deps } = targets(() => Promise.reject(new KeyringError('not_signed_in', 'not signed in')));
    await deps.staticCredentials.set(canonical, 'api-key');
    await purgeServer(deps, canonical);
    assert.deepEqual([...backend.values.keys()], []);
    assert.deepEqual(logger.lines, []);
  });

  it('deletes the secrets even when the sign-out fails, and says so without the secret', async () => {
    const { backend, logger, targets: deps } = targets(() => Promise.reject(new KeyringError('store_failed', 'locked')));
    await deps.clientSecrets.set(canonical, 'client-secret');
    await purgeServer(deps, canonical);
    assert.deepEqual([...backend.values.keys()], []);
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!, /store_failed/);
    assert.doesNotMatch(logger.lines[0]!, /client-secret/);
  });
});
