// Moves records of the store's first layout, one account per server and keys holding the server's URL
// (`server:<url>`, `credential:[resource, issuer, client, account]`, `discovery:<url>`), to the current one (records.ts),
// so nobody is signed out by an upgrade. Runs before the repository's first access, in every process; a record another
// process moved meanwhile is simply gone, and a legacy record written after the move by a process still running the
// old version wins over an older copy.
import { KeyringError } from './errors';
import type { KeyringStore, Logger } from './ports';
import { credentialKey, hasShape, isCredential, readRecord, accountId, preferredKey, type Credential } from './records';

const LEGACY_SERVER_PREFIX = 'server:';
const LEGACY_CREDENTIAL_PREFIX = 'credential:';
const LEGACY_DISCOVERY_PREFIX = 'discovery:';
const MIGRATION_LOCK = 'migration';

interface LegacyBinding {
  readonly serverUrl: string;
  readonly resource: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly account: string;
}

type LegacyCredential = Omit<Credential, 'serverUrl' | 'subject'>;

/** Moves every legacy record it can; one it cannot read stays where it is (and is logged) rather than blocking the rest. */
export async function migrateLegacyRecords(store: KeyringStore, logger: Logger): Promise<void> {
  if ((await store.keys(LEGACY_SERVER_PREFIX)).length === 0 && (await store.keys(LEGACY_DISCOVERY_PREFIX)).length === 0) return;
  // One lock for the whole move (its name holds no URL), so two processes starting together do not move twice.
  await store.withLock(MIGRATION_LOCK, () => migrate(store, logger));
}

async function migrate(store: KeyringStore, logger: Logger): Promise<void> {
  const legacyServers = await store.keys(LEGACY_SERVER_PREFIX);
  const movedCredentials = new Set<string>();
  for (const key of legacyServers) {
    try {
      const credentialKeyMoved = await migrateServer(store, key);
      if (credentialKeyMoved) movedCredentials.add(credentialKeyMoved);
    } catch (error) {
      logger.warn(`[storeMigration] a server record of the previous layout could not be moved (${error instanceof KeyringError ? error.code : 'failed'}); it stays for the next start`);
    }
  }
  // A legacy credential may serve two servers (same resource): deleted once every server's copy is made.
  for (const key of movedCredentials) await store.delete(key);
  for (const key of await store.keys(LEGACY_DISCOVERY_PREFIX)) await store.delete(key);
  if (legacyServers.length > 0) logger.info(`[storeMigration] moved ${legacyServers.length} server record(s) of the previous layout`);
}

/** One legacy server: its credential becomes the server's first account, and its preferred one. Returns the old key. */
async function migrateServer(store: KeyringStore, key: string): Promise<string | undefined> {
  const binding = await readRecord(store, key, isLegacyBinding);
  if (!binding) return undefined; // another process moved it
  const legacyKey = `${LEGACY_CREDENTIAL_PREFIX}${JSON.stringify([binding.resource, binding.issuer, binding.clientId, binding.account])}`;
  const legacy = await readRecord(store, legacyKey, isLegacyCredential);
  if (legacy) {
    const moved: Credential = { ...legacy, serverUrl: binding.serverUrl };
    const newKey = await credentialKey(moved);
    const current = await readRecord(store, newKey, isCredential);
    // Newer wins: a window still running the old version may have refreshed (and rotated) after an earlier move.
    if (!current || current.obtainedAt < moved.obtainedAt) await store.set(newKey, JSON.stringify(moved));
    const preferred = await preferredKey(binding.serverUrl);
    if ((await store.get(preferred)) === undefined) {
      await store.set(preferred, JSON.stringify({ serverUrl: binding.serverUrl, accountId: await accountId(moved) }));
    }
  }
  await store.delete(key);
  return legacy ? legacyKey : undefined;
}

function isLegacyBinding(value: unknown): value is LegacyBinding {
  return hasShape(value, { serverUrl: 'string', resource: 'string', issuer: 'string', clientId: 'string', account: 'string' });
}

function isLegacyCredential(value: unknown): value is LegacyCredential {
  return hasShape(value, {
    resource: 'string', issuer: 'string', clientId: 'string', account: 'string', accessToken: 'string', refreshToken: 'string?',
    tokenType: 'string', dpopKey: 'object?', scopes: 'string[]', expiresAt: 'number?', obtainedAt: 'number', lastRefresh: 'object?', needsSignIn: 'boolean',
  });
}
