// What the command line remembers of a server between runs, as the editor keeps it in a server's settings entry: the
// options a person had to give for its authorization server (`--assume-pkce`, `--auth-param`, `--resource`). Kept in
// the store once a command given them succeeded; an option given later replaces what was kept; forgotten when the
// server's last account signs out.
import { definedOnly } from '../core/definedOnly';
import { readRecord, serverKeyId } from '../core/records';
import type { ServerOptions } from '../core/keyring';
import type { KeyringStore } from '../core/ports';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import { isExtraAuthorizationParameter, isResourceSetting } from '../core/vocabulary';

export type RememberedOptions = Pick<ServerOptions, 'assumePkce' | 'authorizationParameters' | 'resource'>;

interface RememberedRecord extends RememberedOptions {
  readonly serverUrl: string;
}

/** Named by the server's opaque id, as the engine's records are: the key never shows the URL. */
const PREFIX = 'cli-options/';

export class RememberedServerOptions {
  constructor(private readonly store: KeyringStore) {}

  /** For the engine's `serverOptions`: what was kept for the server at `canonicalUrl`, if anything. */
  async get(canonicalUrl: string): Promise<RememberedOptions | undefined> {
    const record = await readRecord(this.store, await keyOf(canonicalUrl), isRememberedRecord);
    if (record?.serverUrl !== canonicalUrl) return undefined;
    const { serverUrl: _serverUrl, ...options } = record;
    return options;
  }

  /** Keeps what `given` names over what was kept; options not given stay as they were. */
  async remember(serverUrl: string, given: RememberedOptions): Promise<void> {
    const named = definedOnly(given);
    if (Object.keys(named).length === 0) return;
    const canonicalUrl = canonicalServerUrl(parseServerUrl(serverUrl));
    const record: RememberedRecord = { ...(await this.get(canonicalUrl)), ...named, serverUrl: canonicalUrl };
    await this.store.set(await keyOf(canonicalUrl), JSON.stringify(record));
  }

  async forget(serverUrl: string): Promise<void> {
    await this.store.delete(await keyOf(canonicalServerUrl(parseServerUrl(serverUrl))));
  }
}

async function keyOf(canonicalUrl: string): Promise<string> {
  return `${PREFIX}${await serverKeyId(canonicalUrl)}`;
}

function isRememberedRecord(value: unknown): value is RememberedRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { serverUrl, assumePkce, authorizationParameters, resource } = value as Record<string, unknown>;
  return typeof serverUrl === 'string'
    && (assumePkce === undefined || typeof assumePkce === 'boolean')
    && (resource === undefined || isResourceSetting(resource))
    && (authorizationParameters === undefined || isParameterMap(authorizationParameters));
}

function isParameterMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    && Object.entries(value).every(([name, text]) => isExtraAuthorizationParameter(name) && typeof text === 'string');
}
