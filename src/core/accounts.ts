// The accounts of one server: which one a caller means, and which one the server uses when nobody names one. Every
// front end (the relay, the editor's MCP client and authentication provider, the command line) asks here.
import { accountId, type Credential, type PreferredAccount } from './records';

/** A stored credential with the opaque id of its account (as in store keys and session ids). */
export interface IdentifiedAccount {
  readonly id: string;
  readonly credential: Credential;
}

export async function identify(credentials: readonly Credential[]): Promise<IdentifiedAccount[]> {
  return Promise.all(credentials.map(async (credential) => ({ id: await accountId(credential), credential })));
}

/**
 * The account a caller names: by its id, its subject, or its label (what people type, as in `--account alice`). An id
 * or subject wins over a label another account might also carry.
 */
export function findAccount(accounts: readonly IdentifiedAccount[], selector: string): IdentifiedAccount | undefined {
  return accounts.find((account) => account.id === selector || account.credential.subject === selector)
    ?? accounts.find((account) => account.credential.account === selector);
}

/**
 * The server's preferred account: the one the person chose (Switch Account, or the first sign-in) while it is still
 * signed in; otherwise the first by label, so the choice is stable and the same in every window and process.
 */
export function preferredAmong(accounts: readonly IdentifiedAccount[], preferred: PreferredAccount | undefined): IdentifiedAccount | undefined {
  return accounts.find((account) => account.id === preferred?.accountId) ?? byLabel(accounts)[0];
}

/** The preferred account first, then the others by label. */
export function inPreferenceOrder(accounts: readonly IdentifiedAccount[], preferred: PreferredAccount | undefined): IdentifiedAccount[] {
  const first = preferredAmong(accounts, preferred);
  return first ? [first, ...byLabel(accounts.filter((account) => account !== first))] : [];
}

/**
 * Credentials a new sign-in makes stale: the server now uses another authorization server or resource (the old
 * ones can neither be refreshed nor used), or the same person's credential from before accounts had subjects.
 */
export function staleAfterSignIn(accounts: readonly IdentifiedAccount[], signedIn: Credential): IdentifiedAccount[] {
  return accounts.filter(({ credential }) => credential.issuer !== signedIn.issuer
    || credential.resource !== signedIn.resource
    || (signedIn.subject !== undefined && credential.subject === undefined && credential.account === signedIn.account));
}

function byLabel(accounts: readonly IdentifiedAccount[]): IdentifiedAccount[] {
  return [...accounts].sort((a, b) => a.credential.account.localeCompare(b.credential.account) || a.id.localeCompare(b.id));
}
