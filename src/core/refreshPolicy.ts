// When a credential is refreshed and how failures back off: pure functions of the credential and the time, shared
// by on-demand token requests and the background refresh scheduler.
import type { Credential } from './records';

const MINIMUM_LEAD_MS = 60_000;
const LIFETIME_FRACTION = 0.1;
/** Below this much validity a token is not handed out: it could expire on its way to the server. */
export const MINIMUM_VALIDITY_MS = 2_000;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 60_000;

/**
 * The moment refresh becomes due: the last 10% of the lifetime but at least a minute (or `requestedLeadMs`, the
 * editor's setting, when longer) before expiry — capped at half the lifetime, so that a token living seconds is still
 * used before it is replaced, and a lead longer than the token lives does not make each new token due at once.
 */
export function refreshDueAt(credential: Pick<Credential, 'expiresAt' | 'obtainedAt'>, requestedLeadMs = 0): number | undefined {
  if (credential.expiresAt === undefined) return undefined;
  const lifetime = Math.max(0, credential.expiresAt - credential.obtainedAt);
  const lead = Math.min(Math.max(MINIMUM_LEAD_MS, requestedLeadMs, lifetime * LIFETIME_FRACTION), lifetime / 2);
  return credential.expiresAt - lead;
}

/** What decides whether, and when, a stored credential is refreshed in the background (no token in it). */
export interface RefreshPlanInput {
  readonly expiresAt?: number;
  readonly obtainedAt: number;
  readonly needsSignIn: boolean;
  readonly hasRefreshToken: boolean;
}

/**
 * When the background refresh of a credential is planned, before jitter and backoff; undefined when nothing will
 * refresh it (it needs a sign-in, has no refresh token, or never expires). The scheduler plans by it, and the view
 * shows it.
 */
export function plannedRefreshAt(credential: RefreshPlanInput, requestedLeadMs = 0): number | undefined {
  if (credential.needsSignIn || !credential.hasRefreshToken) return undefined;
  return refreshDueAt(credential, requestedLeadMs);
}

export function isRefreshDue(credential: Pick<Credential, 'expiresAt' | 'obtainedAt'>, now: number): boolean {
  const due = refreshDueAt(credential);
  return due !== undefined && now >= due;
}

/** Still acceptable to hand out (for example while a refresh is failing for network reasons). */
export function isStillValid(credential: Pick<Credential, 'expiresAt'>, now: number): boolean {
  return spareValidityMs(credential, now) > 0;
}

/** How much longer the credential stays acceptable to hand out, in ms; Infinity when it has no known expiry. */
export function spareValidityMs(credential: Pick<Credential, 'expiresAt'>, now: number): number {
  return credential.expiresAt === undefined ? Number.POSITIVE_INFINITY : credential.expiresAt - now - MINIMUM_VALIDITY_MS;
}

/** After a refresh failed for a transient reason, callers keep the still-valid token this long before trying again. */
export const RETRY_PAUSE_MS = 5_000;

/** True while a recent transient refresh failure says: do not ask the token endpoint again yet. */
export function isInRetryPause(credential: Pick<Credential, 'lastRefresh'>, now: number): boolean {
  const last = credential.lastRefresh;
  return last?.outcome === 'retrying' && now - last.at >= 0 && now - last.at < RETRY_PAUSE_MS;
}

/** Exponential backoff with full jitter; `random` is injectable so schedules can be tested. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
