// A configured server's accounts as the editor shows them: from stored state only (no request, no prompt), the
// preferred account first. The view's account items carry a ServerAccount, and the account commands (Switch Account,
// Sign Out of one account, Refresh) take it from there.
import type { CredentialStatus, Keyring } from '../core/keyring';
import type { ConfiguredServer } from './configuredServer';

export interface ServerAccount {
  readonly server: ConfiguredServer;
  /** The account as stored: label, id, scopes, expiry, last refresh; `isPreferred` marks the server's preferred one. */
  readonly status: CredentialStatus;
}

export interface ServerAccounts {
  /** The account the relay, the editor's MCP client and other extensions use for this server. */
  readonly preferred?: ServerAccount;
  /** Every account, the preferred one first, then by label. */
  readonly accounts: readonly ServerAccount[];
}

export async function listServerAccounts(keyring: Pick<Keyring, 'accounts'>, server: ConfiguredServer): Promise<ServerAccounts> {
  const { accounts } = await keyring.accounts(server.canonicalUrl);
  const items = accounts.map((status) => ({ server, status }));
  return { preferred: items.find((item) => item.status.isPreferred), accounts: items };
}

/** A command's argument from a view item: an account item carries its server and its status. */
export function isServerAccount(value: unknown): value is ServerAccount {
  return typeof value === 'object' && value !== null && 'server' in value && 'status' in value;
}
