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

export interface Credential {
  readonly resource: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly account: string;
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

/** Which credential serves a server URL, and what was learned about the server when it was obtained. */
export interface ServerBinding {
  readonly serverUrl: string;
  readonly resource: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly account: string;
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

export function credentialKey(parts: Pick<Credential, 'resource' | 'issuer' | 'clientId' | 'account'>): string {
  return `${CREDENTIAL_KEY_PREFIX}${JSON.stringify([parts.resource, parts.issuer, parts.clientId, parts.account])}`;
}

const SERVER_KEY_PREFIX = 'server:';
const CREDENTIAL_KEY_PREFIX = 'credential:';

const keys = {
  client: (issuer: string, clientId: string) => `client:${JSON.stringify([issuer, clientId])}`,
  clientsOf: (issuer: string) => `client:${JSON.stringify([issuer]).slice(0, -1)},`,
  server: (serverUrl: string) => `${SERVER_KEY_PREFIX}${serverUrl}`,
  discovery: (serverUrl: string) => `discovery:${serverUrl}`,
};

/** What a store key names, for a reader of store changes: a server's binding, a credential, or something else. */
export type StoreKeySubject =
  | { readonly kind: 'server'; readonly serverUrl: string }
  | { readonly kind: 'credential'; readonly credential: Pick<Credential, 'resource' | 'issuer' | 'clientId' | 'account'> }
  | { readonly kind: 'other' };

/** The inverse of the key format above, for server and credential keys; anything unreadable is `other`. */
export function decodeStoreKey(key: string): StoreKeySubject {
  if (key.startsWith(SERVER_KEY_PREFIX)) return { kind: 'server', serverUrl: key.slice(SERVER_KEY_PREFIX.length) };
  if (!key.startsWith(CREDENTIAL_KEY_PREFIX)) return { kind: 'other' };
  let parts: unknown;
  try {
    parts = JSON.parse(key.slice(CREDENTIAL_KEY_PREFIX.length));
  } catch {
    return { kind: 'other' };
  }
  if (!Array.isArray(parts) || parts.length !== 4 || !parts.every((part) => typeof part === 'string')) return { kind: 'other' };
  const [resource, issuer, clientId, account] = parts;
  return { kind: 'credential', credential: { resource: resource!, issuer: issuer!, clientId: clientId!, account: account! } };
}

/** Typed access to the store. Writes replace whole records, so a reader never sees half an update. */
export class KeyringRepository {
  constructor(readonly store: KeyringStore) {}

  /** Client identities are kept per (issuer, client id): several servers at one issuer may use different ones. */
  getClient(issuer: string, clientId: string): Promise<ClientRecord | undefined> {
    return this.read(keys.client(issuer, clientId), isClientRecord);
  }
  async listClients(issuer: string): Promise<ClientRecord[]> {
    const found: ClientRecord[] = [];
    for (const key of await this.store.keys(keys.clientsOf(issuer))) {
      const record = await this.read(key, isClientRecord);
      if (record?.issuer === issuer) found.push(record);
    }
    return found;
  }
  putClient(record: ClientRecord): Promise<void> {
    return this.write(keys.client(record.issuer, record.clientId), record);
  }
  deleteClient(issuer: string, clientId: string): Promise<void> {
    return this.store.delete(keys.client(issuer, clientId));
  }

  getServer(serverUrl: string): Promise<ServerBinding | undefined> {
    return this.read(keys.server(serverUrl), isServerBinding);
  }
  putServer(binding: ServerBinding): Promise<void> {
    return this.write(keys.server(binding.serverUrl), binding);
  }
  deleteServer(serverUrl: string): Promise<void> {
    return this.store.delete(keys.server(serverUrl));
  }
  async listServers(): Promise<ServerBinding[]> {
    const found: ServerBinding[] = [];
    for (const key of await this.store.keys(SERVER_KEY_PREFIX)) {
      const binding = await this.read(key, isServerBinding);
      if (binding) found.push(binding);
    }
    return found;
  }

  getCredential(binding: Pick<Credential, 'resource' | 'issuer' | 'clientId' | 'account'>): Promise<Credential | undefined> {
    return this.read(credentialKey(binding), isCredential);
  }
  putCredential(credential: Credential): Promise<void> {
    return this.write(credentialKey(credential), credential);
  }
  deleteCredential(binding: Pick<Credential, 'resource' | 'issuer' | 'clientId' | 'account'>): Promise<void> {
    return this.store.delete(credentialKey(binding));
  }

  getDiscovery(serverUrl: string): Promise<StoredDiscovery | undefined> {
    return this.read(keys.discovery(serverUrl), isStoredDiscovery);
  }
  putDiscovery(record: StoredDiscovery): Promise<void> {
    return this.write(keys.discovery(record.serverUrl), record);
  }
  deleteDiscovery(serverUrl: string): Promise<void> {
    return this.store.delete(keys.discovery(serverUrl));
  }

  private async read<T>(key: string, isValid: (value: unknown) => value is T): Promise<T | undefined> {
    const text = await this.store.get(key);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new KeyringError('store_failed', `a stored record (${key.split(':')[0]}) is not valid JSON`);
    }
    if (!isValid(value)) throw new KeyringError('store_failed', `a stored record (${key.split(':')[0]}) has an unexpected shape`);
    return value;
  }

  private write(key: string, value: object): Promise<void> {
    return this.store.set(key, JSON.stringify(value));
  }
}

type Shape = Record<string, 'string' | 'number' | 'boolean' | 'object' | 'string[]' | 'string?' | 'number?' | 'object?' | 'string[]?'>;

function hasShape(value: unknown, shape: Shape): value is Record<string, unknown> {
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

function isCredential(value: unknown): value is Credential {
  return hasShape(value, {
    resource: 'string', issuer: 'string', clientId: 'string', account: 'string', accessToken: 'string', refreshToken: 'string?',
    tokenType: 'string', dpopKey: 'object?', scopes: 'string[]', expiresAt: 'number?', obtainedAt: 'number', lastRefresh: 'object?', needsSignIn: 'boolean',
  }) && (value.resourceIndicator === undefined || value.resourceIndicator === null || typeof value.resourceIndicator === 'string');
}

function isServerBinding(value: unknown): value is ServerBinding {
  return hasShape(value, { serverUrl: 'string', resource: 'string', issuer: 'string', clientId: 'string', account: 'string' });
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
