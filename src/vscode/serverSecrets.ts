// The secrets configured per server (a pre-registered client's secret or private key, a static credential for servers
// without OAuth, a machine grant's assertion or identity-provider credentials): which of them a server's entry calls
// for, and where each is kept, in SecretStorage under the extension's prefix, never in settings.
import { serverKeyId } from '../core/records';
import type { SecretReadsAndWrites } from './cachedSecrets';
import { SECRET_KEY_PREFIX } from './ids';
import type { ServerEntry } from './serverEntry';

/** The secrets of the machine grants and of private_key_jwt, each stored under its own key per server. */
export const GRANT_SECRET_KINDS = ['privateKey', 'assertion', 'idpClientSecret', 'idpIdToken'] as const;
export type GrantSecretKind = (typeof GRANT_SECRET_KINDS)[number];

/** The secrets "Set Server Secret…" can take. */
export type ServerSecretKind = 'clientSecret' | GrantSecretKind;

type SecretKind = 'staticCredential' | ServerSecretKind;

/** Which secrets a server's configuration calls for, so that "Set Server Secret…" offers only those. */
export function secretKindsFor(entry: ServerEntry): ServerSecretKind[] {
  const kinds: ServerSecretKind[] = [];
  if (entry.clientId !== undefined) {
    const method = entry.clientAuthMethod;
    if (method === undefined || method === 'client_secret_basic' || method === 'client_secret_post') kinds.push('clientSecret');
    if (method === undefined || method === 'private_key_jwt') kinds.push('privateKey');
  }
  if (entry.grant === 'jwt-bearer' && entry.assertionFile === undefined) kinds.push('assertion');
  if (entry.grant === 'token-exchange') kinds.push('idpClientSecret', 'idpIdToken');
  return kinds;
}

/**
 * One kind of secret per server, under `mcpKeyring/<kind>/<server id>`: the engine's opaque id of the server, never its
 * URL, whose query may carry a key. A secret still under the URL (the key layout before) is moved on first read, so
 * nobody has to enter it again after an upgrade.
 */
export class ServerSecrets {
  constructor(
    private readonly secrets: SecretReadsAndWrites,
    private readonly kind: SecretKind,
  ) {}

  async get(canonicalUrl: string): Promise<string | undefined> {
    const key = await this.key(canonicalUrl);
    const value = await this.secrets.get(key);
    if (value !== undefined) return value;
    const legacy = await this.secrets.get(this.legacyKey(canonicalUrl));
    if (legacy === undefined) return undefined;
    await this.secrets.store(key, legacy);
    await this.secrets.delete(this.legacyKey(canonicalUrl));
    return legacy;
  }

  async set(canonicalUrl: string, value: string): Promise<void> {
    await this.secrets.store(await this.key(canonicalUrl), value);
    await this.secrets.delete(this.legacyKey(canonicalUrl));
  }

  async delete(canonicalUrl: string): Promise<void> {
    await this.secrets.delete(await this.key(canonicalUrl));
    await this.secrets.delete(this.legacyKey(canonicalUrl));
  }

  private async key(canonicalUrl: string): Promise<string> {
    return `${SECRET_KEY_PREFIX}${this.kind}/${await serverKeyId(canonicalUrl)}`;
  }

  private legacyKey(canonicalUrl: string): string {
    return `${SECRET_KEY_PREFIX}${this.kind}/${canonicalUrl}`;
  }
}

export class ClientSecrets extends ServerSecrets {
  constructor(secrets: SecretReadsAndWrites) {
    super(secrets, 'clientSecret');
  }
}

export class StaticCredentials extends ServerSecrets {
  constructor(secrets: SecretReadsAndWrites) {
    super(secrets, 'staticCredential');
  }
}

/** One store per grant secret kind; `deleteAll` forgets every one of a server's. */
export class GrantSecrets {
  private readonly stores: Record<GrantSecretKind, ServerSecrets>;

  constructor(secrets: SecretReadsAndWrites) {
    this.stores = Object.fromEntries(GRANT_SECRET_KINDS.map((kind) => [kind, new ServerSecrets(secrets, kind)])) as Record<GrantSecretKind, ServerSecrets>;
  }

  of(kind: GrantSecretKind): ServerSecrets {
    return this.stores[kind];
  }

  async deleteAll(canonicalUrl: string): Promise<void> {
    await Promise.all(GRANT_SECRET_KINDS.map((kind) => this.stores[kind].delete(canonicalUrl)));
  }
}
