// What the MCP Keyring view says about a server and each of its accounts, as data: the facts shown under an account
// and in its hover, and whether a server needs the person. Pure functions of stored state (no network, no vscode),
// so the view can be opened without reaching any server and the rules are unit-tested here.
import type { CredentialStatus } from '../core/keyring';
import { plannedRefreshAt } from '../core/refreshPolicy';

/** Why a server needs the person: a sign-in, a sign-in with more scope (step-up), or a refresh that keeps failing. */
export type Attention = 'signIn' | 'stepUp' | 'refreshFailing';

/** A sign-in the relay found necessary but could not run; `scopes` set means more scope (step-up). */
export interface PendingSignIn {
  readonly scopes: readonly string[] | undefined;
}

export type NextRefresh =
  | { readonly kind: 'at'; readonly at: number }
  | { readonly kind: 'none'; readonly why: 'needsSignIn' | 'noRefreshToken' | 'noExpiry' };

/** Everything the view shows about one account, from the stored credential and client record. */
export interface AccountFacts {
  readonly account: string;
  readonly authorizationServer: string;
  readonly scopes: readonly string[];
  readonly clientId: string;
  readonly clientOrigin: CredentialStatus['clientOrigin'];
  readonly tokenKind: 'Bearer' | 'DPoP';
  readonly signedInAt?: number;
  readonly lastRefresh?: CredentialStatus['lastRefresh'];
  readonly nextRefresh: NextRefresh;
  readonly expiresAt?: number;
  readonly needsSignIn: boolean;
}

/**
 * The facts of one account. `refreshLeadMs` is the `refreshBeforeExpirySeconds` setting: the next refresh is the one
 * the background scheduler plans (before its jitter), by the engine's rule.
 */
export function accountFacts(status: CredentialStatus, refreshLeadMs: number): AccountFacts {
  return {
    account: status.account,
    authorizationServer: status.issuer,
    scopes: status.scopes,
    clientId: status.clientId,
    clientOrigin: status.clientOrigin,
    tokenKind: status.dpopBound ? 'DPoP' : 'Bearer',
    signedInAt: status.obtainedAt,
    lastRefresh: status.lastRefresh,
    nextRefresh: nextRefresh(status, refreshLeadMs),
    expiresAt: status.expiresAt,
    needsSignIn: status.needsSignIn,
  };
}

function nextRefresh(status: CredentialStatus, refreshLeadMs: number): NextRefresh {
  const at = plannedRefreshAt({ ...status, obtainedAt: status.obtainedAt ?? 0 }, refreshLeadMs);
  if (at !== undefined) return { kind: 'at', at };
  if (status.needsSignIn) return { kind: 'none', why: 'needsSignIn' };
  return { kind: 'none', why: status.hasRefreshToken ? 'noExpiry' : 'noRefreshToken' };
}

/**
 * Whether a server needs the person, from its accounts and a pending sign-in. Only the preferred account counts: it
 * is the one the server is used with, while another account that needs sign-in blocks nothing until the person
 * switches to it (its own row says so). A server nobody has signed in to and nothing has asked for does not need the
 * person either: an imported list of servers would otherwise light the badge for each of them.
 */
export function attentionOf(statuses: readonly Pick<CredentialStatus, 'needsSignIn' | 'lastRefresh' | 'isPreferred'>[], pending: PendingSignIn | undefined): Attention | undefined {
  if (pending) return pending.scopes ? 'stepUp' : 'signIn';
  const preferred = statuses.find((status) => status.isPreferred);
  if (preferred?.needsSignIn) return 'signIn';
  if (preferred?.lastRefresh?.outcome === 'retrying') return 'refreshFailing';
  return undefined;
}
