// The engine's persistent records and where they live in a KeyringStore. Every read is validated, so a damaged or
// hand-edited store gives a clear error instead of a crash deep in a flow.
import type * as oauth from 'oauth4webapi';
import { AddressClasses, type AddressClass } from './addresses';
import type { Challenge } from './challenge';
import { KeyringError } from './errors';
import type { KeyringStore } from './ports';
import { isOneOf, type ClientAuthMethod } from './vocabulary';

export type ClientOrigin = 'pre-registered' | 'metadata-document' | 'dynamic-registration';

export interface ClientRecord {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** PKCS#8 PEM of the key that signs `private_key_jwt` assertions (a secret, like `clientSecret`). */
  readonly privateKey?: string;
  /** The JWS algorithm for `private_key_jwt` assertions. */
  readonly signingAlg?: string;
  readonly authMethod: ClientAuthMethod;
  readonly redirectUris: readonly string[];
  /** The grants a registration asked for; absent on records made before the device flow (the code flow's). */
  readonly grantTypes?: readonly string[];
  readonly origin: ClientOrigin;
  readonly registeredAt: number;
}

export type RefreshOutcome = 'ok' | 'retrying' | 'rejected';

/**
 * One account's credential for one MCP server. A server has one per account signed in to it; the account is told
 * apart by `subject` (the `sub` the authorization server signed in) where known, else by its label.
 */
export interface Credential {
  /** The canonical URL of the MCP server this credential serves. */
  readonly serverUrl: string;
  readonly resource: string;
  readonly issuer: string;
  readonly clientId: string;
  /** The label people see: a user name or e-mail address from the tokens, else the issuer's host. */
  readonly account: string;
  /** The `sub` of the account at `issuer`; absent where the tokens named none, and in credentials older than accounts. */
  readonly subject?: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** `bearer` or `dpop` (lower case, as oauth4webapi normalises it). */
  readonly tokenType: string;
  /** The private JWK a DPoP-bound token is tied to (RFC 9449); kept with the token because it is as secret. */
  readonly dpopKey?: JsonWebKey;
  readonly scopes: readonly string[];
  /** Epoch milliseconds; absent when the server did not say. */
  readonly expiresAt?: number;
  readonly obtainedAt: number;
  readonly lastRefresh?: { readonly at: number; readonly outcome: RefreshOutcome; readonly code?: string };
  readonly needsSignIn: boolean;
  /**
   * The resource indicator (RFC 8707) its tokens were requested with, where that is not `resource`: another URI the
   * authorization server knows the server by, or null when none was sent (the server's `resource` setting). Refreshes
   * send the same.
   */
  readonly resourceIndicator?: string | null;
}

/** The resource indicator to send when renewing `credential`'s tokens: what its sign-in sent. */
export function resourceIndicatorOf(credential: Pick<Credential, 'resource' | 'resourceIndicator'>): string | undefined {
  if (credential.resourceIndicator === undefined) return credential.resource;
  return credential.resourceIndicator ?? undefined;
}

/** What names one account's credential of one server: the server, the authorization server and the account there. */
export type AccountRef = Pick<Credential, 'serverUrl' | 'issuer' | 'account' | 'subject'>;

/** The account a server uses when nobody names one: for the relay, the editor's MCP client and other extensions. */
export interface PreferredAccount {
  readonly serverUrl: string;
  readonly accountId: string;
}

/** A discovery result kept between runs; its `storedAt` decides whether it is still fresh. */
export interface StoredDiscovery {
  readonly serverUrl: string;
  readonly resource: string;
  readonly resourceMetadataUrl?: string;
  readonly resourceScopes?: readonly string[];
  readonly authorizationServer: oauth.AuthorizationServer;
  readonly metadataSource: string;
  readonly storedAt: number;
  /**
   * What the server's 401 announced (scheme, scope, resource_metadata) when this discovery was made: while the record
   * is fresh, a sign-in need not ask the server again.
   */
  readonly challenge?: AnnouncedChallenge;
  /**
   * The class of the address the MCP server's probe reached when this discovery was made: the policy its endpoints
   * were checked under and are used under. Absent in records from before it was kept (a probe then tells).
   */
  readonly serverAddressClass?: AddressClass;
}

/** A challenge as kept: its token68 credentials, if any, are not. */
export type AnnouncedChallenge = Pick<Challenge, 'scheme' | 'params'>;

/**
 * Store keys name a server and an account by digests, never by the server's URL (whose query may carry a key) nor by
 * the account's name: `credential/<server id>/<account id>`, `preferred/<server id>`, `discovery/<server id>`. Two
 * URLs that differ only in their query have different ids. Client records stay keyed by issuer and client id.
 */
const CREDENTIAL_PREFIX = 'credential/';
const PREFERRED_PREFIX = 'preferred/';
const DISCOVERY_PREFIX = 'discovery/';
const ID_HEX_LENGTH = 32;

/** An opaque, stable id of a server (its canonical URL) in store keys and anything else that must not show the URL. */
export async function serverKeyId(canonicalUrl: string): Promise<string> {
  return digest(canonicalUrl);
}

/** An opaque, stable id of an account at an authorization server: its subject where known, else its label. */
export function accountId(account: Pick<AccountRef, 'issuer' | 'account' | 'subject'>): Promise<string> {
  return digest(JSON.stringify([account.issuer, account.subject ?? account.account]));
}

export async function credentialKey(ref: AccountRef): Promise<string> {
  return `${CREDENTIAL_PREFIX}${await serverKeyId(ref.serverUrl)}/${await accountId(ref)}`;
}

/**
 * Each text is hashed once: callers asking for the same id await one promise, so they continue in the order they
 * asked (the credential manager's single-flight relies on it), not in the order separate digests happen to finish.
 */
const digests = new Map<string, Promise<string>>();
const MAX_REMEMBERED_DIGESTS = 1_000;

function digest(text: string): Promise<string> {
  let pending = digests.get(text);
  if (!pending) {
    if (digests.size >= MAX_REMEMBERED_DIGESTS) digests.clear();
    pending = crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
      .then((hash) => Array.from(new Uint8Array(hash).subarray(0, ID_HEX_LENGTH / 2), (byte) => byte.toString(16).padStart(2, '0')).join(''));
    digests.set(text, pending);
  }
  return pending;
}

export async function preferredKey(serverUrl: string): Promise<string> {
  return `${PREFERRED_PREFIX}${await serverKeyId(serverUrl)}`;
}

const keys = {
  client: (issuer: string, clientId: string) => `client:${JSON.stringify([issuer, clientId])}`,
  clientsOf: (issuer: string) => `client:${JSON.stringify([issuer]).slice(0, -1)},`,
  credentialsOf: async (serverUrl: string) => `${CREDENTIAL_PREFIX}${await serverKeyId(serverUrl)}/`,
  discovery: async (serverUrl: string) => `${DISCOVERY_PREFIX}${await serverKeyId(serverUrl)}`,
};

/** What a store key names, for a reader of store changes: one account's credential, a server's preference, or else. */
export type StoreKeySubject =
  | { readonly kind: 'credential'; readonly serverId: string; readonly accountId: string }
  | { readonly kind: 'preferred'; readonly serverId: string }
  | { readonly kind: 'other' };

/** The inverse of the key format above, for credential and preference keys; anything unreadable is `other`. */
export function decodeStoreKey(key: string): StoreKeySubject {
  const id = `[0-9a-f]{${ID_HEX_LENGTH}}`;
  const credential = new RegExp(`^${CREDENTIAL_PREFIX}(${id})/(${id})$`).exec(key);
  if (credential) return { kind: 'credential', serverId: credential[1]!, accountId: credential[2]! };
  const preferred = new RegExp(`^${PREFERRED_PREFIX}(${id})$`).exec(key);
  if (preferred) return { kind: 'preferred', serverId: preferred[1]! };
  return { kind: 'other' };
}

/** Typed access to the store. Writes replace whole records, so a reader never sees half an update. */
export class KeyringRepository {
  /**
   * The last record parsed under each key, with the text it came from: the MCP client's every request reads the same
   * unchanged records, and records are immutable (readonly throughout), so an unchanged text hands out the same value.
   */
  private readonly parsed = new Map<string, { readonly text: string; readonly value: unknown; readonly isValid: (value: unknown) => boolean }>();

  /**
   * @param ready settles once records of an older layout were moved to this one (see storeMigration.ts); every
   * access waits for it, so no reader sees a person signed out by an upgrade.
   */
  constructor(readonly store: KeyringStore, private readonly ready: Promise<void> = Promise.resolve()) {}

  /** Client identities are kept per (issuer, client id): several servers at one issuer may use different ones. */
  async getClient(issuer: string, clientId: string): Promise<ClientRecord | undefined> {
    return this.read(keys.client(issuer, clientId), isClientRecord);
  }
  async listClients(issuer: string): Promise<ClientRecord[]> {
    const found: ClientRecord[] = [];
    for (const key of await this.keys(keys.clientsOf(issuer))) {
      const record = await this.read(key, isClientRecord);
      if (record?.issuer === issuer) found.push(record);
    }
    return found;
  }
  async putClient(record: ClientRecord): Promise<void> {
    return this.write(keys.client(record.issuer, record.clientId), record);
  }
  async deleteClient(issuer: string, clientId: string): Promise<void> {
    await this.ready;
    return this.store.delete(keys.client(issuer, clientId));
  }

  /** Every account's credential for one server, in the store's key order. */
  async listCredentials(serverUrl: string): Promise<Credential[]> {
    return this.readAll(await keys.credentialsOf(serverUrl), isCredential);
  }
  /** Every credential of every server. */
  async listAllCredentials(): Promise<Credential[]> {
    return this.readAll(CREDENTIAL_PREFIX, isCredential);
  }
  async getCredential(ref: AccountRef): Promise<Credential | undefined> {
    return this.read(await credentialKey(ref), isCredential);
  }
  async putCredential(credential: Credential): Promise<void> {
    return this.write(await credentialKey(credential), credential);
  }
  async deleteCredential(ref: AccountRef): Promise<void> {
    await this.ready;
    return this.store.delete(await credentialKey(ref));
  }

  async getPreferred(serverUrl: string): Promise<PreferredAccount | undefined> {
    return this.read(await preferredKey(serverUrl), isPreferredAccount);
  }
  async putPreferred(preferred: PreferredAccount): Promise<void> {
    return this.write(await preferredKey(preferred.serverUrl), preferred);
  }
  async deletePreferred(serverUrl: string): Promise<void> {
    await this.ready;
    return this.store.delete(await preferredKey(serverUrl));
  }

  async getDiscovery(serverUrl: string): Promise<StoredDiscovery | undefined> {
    return this.read(await keys.discovery(serverUrl), isStoredDiscovery);
  }
  async putDiscovery(record: StoredDiscovery): Promise<void> {
    return this.write(await keys.discovery(record.serverUrl), record);
  }
  async deleteDiscovery(serverUrl: string): Promise<void> {
    await this.ready;
    return this.store.delete(await keys.discovery(serverUrl));
  }

  /** The lock of one account's credential: refreshes of different accounts never wait for each other. */
  async withCredentialLock<T>(ref: AccountRef, work: () => Promise<T>): Promise<T> {
    await this.ready;
    return this.store.withLock(await credentialKey(ref), work);
  }

  private async keys(prefix: string): Promise<string[]> {
    await this.ready;
    return this.store.keys(prefix);
  }

  private async readAll<T>(prefix: string, isValid: (value: unknown) => value is T): Promise<T[]> {
    const found: T[] = [];
    for (const key of await this.keys(prefix)) {
      const record = await this.read(key, isValid);
      if (record) found.push(record);
    }
    return found;
  }

  private async read<T>(key: string, isValid: (value: unknown) => value is T): Promise<T | undefined> {
    await this.ready;
    const text = await this.store.get(key);
    if (text === undefined) {
      this.parsed.delete(key);
      return undefined;
    }
    const known = this.parsed.get(key);
    // Checked when it was parsed, by the same check.
    if (known?.text === text && known.isValid === isValid) return known.value as T;
    const value = parseRecord(key, text, isValid);
    this.parsed.set(key, { text, value, isValid });
    return value;
  }

  private async write(key: string, value: object): Promise<void> {
    await this.ready;
    return this.store.set(key, JSON.stringify(value));
  }
}

/** Reads and checks one record; a damaged one is a `store_failed` naming only the kind of record, never its content. */
export async function readRecord<T>(store: KeyringStore, key: string, isValid: (value: unknown) => value is T): Promise<T | undefined> {
  const text = await store.get(key);
  return text === undefined ? undefined : parseRecord(key, text, isValid);
}

function parseRecord<T>(key: string, text: string, isValid: (value: unknown) => value is T): T {
  const kind = key.split(/[:/]/)[0];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyringError('store_failed', `a stored record (${kind}) is not valid JSON`);
  }
  if (!isValid(value)) throw new KeyringError('store_failed', `a stored record (${kind}) has an unexpected shape`);
  return value;
}

export type Shape = Record<string, 'string' | 'number' | 'boolean' | 'object' | 'string[]' | 'string?' | 'number?' | 'object?' | 'string[]?'>;

export function hasShape(value: unknown, shape: Shape): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return Object.entries(shape).every(([name, kind]) => {
    const field = record[name];
    const optional = kind.endsWith('?');
    if (field === undefined) return optional;
    const base = optional ? kind.slice(0, -1) : kind;
    if (base === 'string[]') return Array.isArray(field) && field.every((item) => typeof item === 'string');
    if (base === 'object') return typeof field === 'object' && field !== null;
    return typeof field === base;
  });
}

function isClientRecord(value: unknown): value is ClientRecord {
  return hasShape(value, { issuer: 'string', clientId: 'string', clientSecret: 'string?', privateKey: 'string?', signingAlg: 'string?', authMethod: 'string', redirectUris: 'string[]', grantTypes: 'string[]?', origin: 'string', registeredAt: 'number' });
}

export function isCredential(value: unknown): value is Credential {
  return hasShape(value, {
    serverUrl: 'string', subject: 'string?', resource: 'string', issuer: 'string', clientId: 'string', account: 'string', accessToken: 'string', refreshToken: 'string?',
    tokenType: 'string', dpopKey: 'object?', scopes: 'string[]', expiresAt: 'number?', obtainedAt: 'number', lastRefresh: 'object?', needsSignIn: 'boolean',
  }) && (value.resourceIndicator === undefined || value.resourceIndicator === null || typeof value.resourceIndicator === 'string');
}

function isPreferredAccount(value: unknown): value is PreferredAccount {
  return hasShape(value, { serverUrl: 'string', accountId: 'string' });
}

function isStoredDiscovery(value: unknown): value is StoredDiscovery {
  return hasShape(value, { serverUrl: 'string', resource: 'string', resourceMetadataUrl: 'string?', resourceScopes: 'string[]?', authorizationServer: 'object', metadataSource: 'string', storedAt: 'number', challenge: 'object?', serverAddressClass: 'string?' })
    && typeof (value as { authorizationServer: { issuer?: unknown } }).authorizationServer.issuer === 'string'
    && (value.serverAddressClass === undefined || isOneOf(AddressClasses, value.serverAddressClass))
    && (value.challenge === undefined || isAnnouncedChallenge(value.challenge));
}

function isAnnouncedChallenge(value: unknown): value is AnnouncedChallenge {
  return hasShape(value, { scheme: 'string', params: 'object' })
    && Object.values(value.params as object).every((param) => typeof param === 'string');
}
