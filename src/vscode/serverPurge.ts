// Nothing the keyring holds for a server outlives its settings entry: when an entry leaves the user settings, or its
// url or client configuration changes there, the server's credential, binding and secrets are purged, not orphaned.
import type * as vscode from 'vscode';
import { isKeyringError, shortErrorCode } from '../core/errors';
import type { CredentialChange } from '../core/events';
import type { Keyring } from '../core/keyring';
import type { Logger } from '../core/ports';
import type { ClientSecrets, GrantSecrets, StaticCredentials } from './serverSecrets';
import type { ConfiguredServer } from './configuredServer';
import { StateKeys } from './ids';

export interface PurgeTargets {
  readonly keyring: Pick<Keyring, 'signOut'>;
  readonly clientSecrets: Pick<ClientSecrets, 'delete'>;
  readonly grantSecrets: Pick<GrantSecrets, 'deleteAll'>;
  readonly staticCredentials: Pick<StaticCredentials, 'delete'>;
  readonly logger: Logger;
  /** Told once a purge has deleted everything, so that views and API callers can tell it is done. */
  readonly announce: (change: CredentialChange) => void;
}

/** Signs out (revoking where the server offers it); a server not signed in is already where a sign-out leaves it. */
export async function signOutIfSignedIn(keyring: Pick<Keyring, 'signOut'>, canonicalUrl: string): Promise<void> {
  await keyring.signOut(canonicalUrl).catch((error: unknown) => {
    if (!isKeyringError(error, 'not_signed_in')) throw error;
  });
}

/**
 * Signs out (revoking where the server offers it), deletes the server's client secret, grant secrets and static
 * credential, and announces it (`purged`). Idempotent: a server with nothing stored is fine, so the Remove command and the settings watcher may both run it.
 */
export async function purgeServer(targets: PurgeTargets, canonicalUrl: string): Promise<void> {
  await signOutIfSignedIn(targets.keyring, canonicalUrl).catch((error: unknown) => {
    targets.logger.warn(`[purge] sign-out of ${canonicalUrl} failed (${shortErrorCode(error)}); deleting its secrets anyway`);
  });
  await targets.clientSecrets.delete(canonicalUrl);
  await targets.grantSecrets.deleteAll(canonicalUrl);
  await targets.staticCredentials.delete(canonicalUrl);
  targets.announce({ serverUrl: canonicalUrl, kind: 'purged' });
}

/** The registry as the watcher sees it. */
export interface PurgeRegistry {
  /** Entries in the user settings: the ones that are this person's, whatever window or workspace is open. */
  userServers(): ConfiguredServer[];
  /** Every entry this window uses (workspace ones too). */
  list(): ConfiguredServer[];
  readonly onDidChange: vscode.Event<void>;
}

export interface SettingsPurgeOptions {
  readonly registry: PurgeRegistry;
  /** `context.globalState`: the user entries last seen, so edits made while the editor was closed count too. */
  readonly memento: Pick<vscode.Memento, 'get' | 'update'>;
  readonly purge: (canonicalUrl: string) => Promise<void>;
  readonly logger: Logger;
}

/** canonical URL → what a credential for it depends on. */
type Snapshot = Readonly<Record<string, string>>;

/**
 * Watches the user settings. Workspace entries are not watched: closing a workspace is not removing a server, and
 * SecretStorage is shared by every window, whose workspaces this window cannot see.
 */
export class SettingsPurge implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;
  /** Reconciliations run one after another, so two quick edits never purge from the same stale snapshot. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: SettingsPurgeOptions) {
    this.subscription = options.registry.onDidChange(() => void this.reconcile());
  }

  /** Purges what the entries seen last had and the current ones do not; remembers the current ones. */
  reconcile(): Promise<void> {
    this.queue = this.queue.then(() => this.reconcileNow()).catch((error: unknown) => {
      this.options.logger.error(`[purge] could not reconcile the stored credentials with the settings (${shortErrorCode(error)})`);
    });
    return this.queue;
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private async reconcileNow(): Promise<void> {
    const { registry, memento, logger } = this.options;
    const current = snapshotOf(registry.userServers());
    const previous = memento.get<Snapshot>(StateKeys.userServers);
    // The first run of a version that watches has nothing to compare with; it only starts remembering.
    if (previous) {
      const inUse = snapshotOf(registry.list());
      for (const [canonicalUrl, dependsOn] of Object.entries(previous)) {
        if (current[canonicalUrl] === dependsOn || inUse[canonicalUrl] === dependsOn) continue;
        logger.info(`[purge] ${canonicalUrl} ${canonicalUrl in current ? 'changed its client configuration' : 'left the settings'}; purging what was stored for it`);
        await this.options.purge(canonicalUrl);
      }
    }
    await memento.update(StateKeys.userServers, current);
  }
}

/**
 * A credential is bound to the client it was issued to, and to the grant that obtained it: a different client id,
 * authentication method or grant makes it (and the secrets kept for the old client) stale. Label, scopes, redirect
 * and headers change nothing stored.
 */
function snapshotOf(servers: readonly ConfiguredServer[]): Snapshot {
  const snapshot: Record<string, string> = {};
  for (const { canonicalUrl, entry } of servers) {
    snapshot[canonicalUrl] ??= JSON.stringify([entry.clientId ?? null, entry.clientAuthMethod ?? null, ...(entry.grant ? [entry.grant] : [])]);
  }
  return snapshot;
}
