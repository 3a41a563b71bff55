// Keeps credentials fresh: hands out a stored token while it is good, refreshes it when due with exactly one
// refresh in flight per credential (in this process, and across processes through the store's lock), stores the
// new tokens before anyone sees them, and classifies failures: rejected → needs sign-in, transient → keep and retry.
import type * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import type { ClientIdentities } from './clientIdentity';
import { DpopKeys } from './dpop';
import type { CredentialChange } from './events';
import { KeyringError, isKeyringError, isRefusalWithoutErrorCode, isTransient, shortErrorCode, toKeyringError } from './errors';
import type { HttpClient } from './http';
import { refreshTokens, type TokenSet } from './oauthExchanges';
import type { Clock, Logger } from './ports';
import { backoffDelay, isInRetryPause, isRefreshDue, isStillValid, spareValidityMs } from './refreshPolicy';
import { accountId, credentialKey, resourceIndicatorOf, type AccountRef, type ClientRecord, type Credential, type KeyringRepository } from './records';

export interface RefreshContext {
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRecord;
  readonly policy: DestinationPolicy;
  readonly signal?: AbortSignal;
}

export interface CredentialManagerDeps {
  readonly repository: KeyringRepository;
  readonly http: HttpClient;
  readonly identities: ClientIdentities;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told after a refresh was stored, or after a credential was marked as needing sign-in. */
  readonly onChange?: (change: CredentialChange) => void;
  /** How many times a transient refresh failure is retried on demand before giving up (background retries are the scheduler's). */
  readonly refreshAttempts?: number;
  /** Proof handles for DPoP-bound credentials, shared with whoever else signs requests with the same keys. */
  readonly dpopKeys?: DpopKeys;
  /** How long a caller holding a still-valid token waits for another caller's refresh before using the token it has. */
  readonly inFlightPatienceMs?: number;
}

const DEFAULT_IN_FLIGHT_PATIENCE_MS = 1_000;

/** What a new sign-in's credential is stored under and issued by. */
export type NewCredentialIdentity = Pick<Credential, 'serverUrl' | 'resource' | 'issuer' | 'clientId' | 'account' | 'subject'>;

/**
 * How a credential without a refresh token gets new tokens: a machine grant run again, or the account a front end
 * lent (`externalAccounts.ts`). Given the stored credential so that a DPoP-bound one keeps its key, and why it is
 * renewed.
 */
export type TokenRenewal = (latest: Credential, trigger: RefreshTrigger['kind']) => Promise<TokenSet>;

/**
 * Why a refresh is considered: the credential is `due`; or its token must be replaced now — `rejected` by the server,
 * or `forced` by someone who asked (a user's Refresh Now, the background scheduler's own timing).
 */
export type RefreshTrigger = { readonly kind: 'due' } | { readonly kind: 'rejected' | 'forced'; readonly token: string };

const DUE: RefreshTrigger = { kind: 'due' };

export class CredentialManager {
  private readonly inflight = new Map<string, Promise<Credential>>();
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly dpopKeys: DpopKeys;
  private readonly inFlightPatienceMs: number;

  constructor(private readonly deps: CredentialManagerDeps) {
    this.sleep = deps.sleep ?? sleepFor;
    this.dpopKeys = deps.dpopKeys ?? new DpopKeys();
    this.inFlightPatienceMs = deps.inFlightPatienceMs ?? DEFAULT_IN_FLIGHT_PATIENCE_MS;
  }

  /** Builds and stores the credential from a completed sign-in, replacing only the same account's. */
  async storeNew(identity: NewCredentialIdentity, tokens: TokenSet, requestedScopes: readonly string[], resourceIndicator: string | undefined): Promise<Credential> {
    const now = this.deps.clock.now();
    const credential: Credential = {
      serverUrl: identity.serverUrl,
      resource: identity.resource,
      issuer: identity.issuer,
      clientId: identity.clientId,
      account: identity.account,
      ...(identity.subject === undefined ? {} : { subject: identity.subject }),
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      tokenType: tokens.tokenType,
      ...boundKey(tokens),
      scopes: tokens.scopes ?? requestedScopes,
      expiresAt: expiry(tokens, now),
      obtainedAt: now,
      needsSignIn: false,
      ...(resourceIndicator === identity.resource ? {} : { resourceIndicator: resourceIndicator ?? null }),
    };
    await this.deps.repository.putCredential(credential);
    return credential;
  }

  /**
   * A credential good to use now: the stored one while refresh is not due, else a refreshed one. A `replace`
   * trigger refreshes `token` now — because the server refused it, or because someone asked — unless another caller
   * already replaced it. `renew` serves credentials that have no refresh token (machine grants).
   */
  async fresh(binding: AccountRef, context: () => Promise<RefreshContext>, trigger: RefreshTrigger = DUE, renew?: TokenRenewal): Promise<Credential> {
    const rejectedToken = trigger.kind === 'due' ? undefined : trigger.token;
    const stored = await this.deps.repository.getCredential(binding);
    if (!stored) throw notSignedIn(binding);
    if (stored.needsSignIn) throw signInExpired(binding);
    const now = this.deps.clock.now();
    if (rejectedToken === undefined && !isRefreshDue(stored, now)) return stored;
    // During an outage, do not hammer the token endpoint on every call while the current token still works.
    if (rejectedToken === undefined && isStillValid(stored, now) && isInRetryPause(stored, now)) return stored;
    // A refresh already under way usually answers at once, and its token is the freshest to hand out; but a slow one
    // (a stalled token endpoint) keeps no caller waiting long while the current token still works.
    const key = await credentialKey(binding);
    const running = this.inflight.get(key);
    // The wait ends before the current token stops being acceptable: handed out afterwards, it still must be.
    if (rejectedToken === undefined && running && isStillValid(stored, now)) return settledWithin(running, Math.min(this.inFlightPatienceMs, spareValidityMs(stored, now)), stored);
    if (rejectedToken !== undefined && stored.accessToken !== rejectedToken && isStillValid(stored, now)) return stored;
    return this.refreshWithRetries(key, binding, context, trigger, renew);
  }

  private async refreshWithRetries(key: string, binding: AccountRef, context: () => Promise<RefreshContext>, trigger: RefreshTrigger, renew: TokenRenewal | undefined): Promise<Credential> {
    const attempts = this.deps.refreshAttempts ?? 3;
    // The caller's signal also cancels the backoff; it is kept from the context a refresh obtained, rather than
    // building the context again (which may mean discovery requests) just to wait.
    let signal: AbortSignal | undefined;
    const contextNotingSignal = async () => {
      const resolved = await context();
      signal = resolved.signal;
      return resolved;
    };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.refreshOnce(key, binding, contextNotingSignal, trigger, renew);
      } catch (error) {
        if (!isKeyringError(error) || !isTransient(error) || attempt + 1 >= attempts) throw error;
        const delay = backoffDelay(attempt);
        this.deps.logger.warn(`[refresh] ${error.message}; retrying in ${delay} ms`);
        await this.sleep(delay, signal);
      }
    }
  }

  /** Single-flight: concurrent callers for one credential (`key`) share one refresh. */
  private refreshOnce(key: string, binding: AccountRef, context: () => Promise<RefreshContext>, trigger: RefreshTrigger, renew: TokenRenewal | undefined): Promise<Credential> {
    const running = this.inflight.get(key);
    if (running) return running;
    const refresh = this.deps.repository
      .withCredentialLock(binding, () => this.refreshLocked(binding, context, trigger, renew))
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, refresh);
    return refresh;
  }

  private async refreshLocked(binding: AccountRef, context: () => Promise<RefreshContext>, trigger: RefreshTrigger, renew: TokenRenewal | undefined): Promise<Credential> {
    const rejectedToken = trigger.kind === 'due' ? undefined : trigger.token;
    // Another process may have refreshed while we waited for the lock; with rotation its refresh token is the only valid one.
    const latest = await this.deps.repository.getCredential(binding);
    if (!latest) throw notSignedIn(binding);
    if (latest.needsSignIn) throw signInExpired(binding);
    const now = this.deps.clock.now();
    const replacedMeanwhile = rejectedToken !== undefined ? latest.accessToken !== rejectedToken : !isRefreshDue(latest, now);
    if (replacedMeanwhile && isStillValid(latest, now)) return latest;
    if (!latest.refreshToken && renew) return this.renewLocked(binding, latest, renew, trigger.kind);
    if (!latest.refreshToken) {
      // Without a refresh token there is nothing to renew; only a token the server refused ends the sign-in.
      if (trigger.kind !== 'rejected' && isStillValid(latest, now)) return latest;
      return this.markNeedsSignIn(binding, latest, 'no_refresh_token', 'the access token can no longer be used and the server issued no refresh token');
    }

    const { as, client, policy } = await context();
    this.deps.logger.info(`[refresh] refreshing the credential for ${binding.serverUrl}`);
    const dpop = latest.dpopKey ? await this.dpopKeys.bindingFor(latest.dpopKey) : undefined;
    let tokens: TokenSet;
    try {
      // Not cancelled with the caller: once sent, a refresh may already have rotated the refresh token at the
      // server, and dropping its answer would end the sign-in. The HTTP client's timeout still bounds it.
      tokens = await refreshTokens(this.deps.http, policy, as, client, latest.refreshToken, resourceIndicatorOf(latest), undefined, dpop);
    } catch (error) {
      const failure = toKeyringError(error, 'token refresh');
      const isRefusal = failure.code === 'invalid_grant' || failure.code === 'invalid_client' || isRefusalWithoutErrorCode(failure);
      // Only an outcome about to be written can overwrite what another holder of the lock wrote meanwhile.
      if (!isRefusal && !leavesGrantStanding(failure)) throw failure;
      const rotated = await this.rotatedMeanwhile(binding, latest, failure);
      if (rotated) return rotated;
      if (isRefusal) {
        if (failure.code === 'invalid_client' && client.origin === 'dynamic-registration') await this.deps.identities.forget(client);
        return this.markNeedsSignIn(binding, latest, failure.code, failure.message);
      }
      await this.deps.repository.putCredential({ ...latest, lastRefresh: { at: now, outcome: 'retrying', code: failure.code } });
      if (rejectedToken === undefined && isStillValid(latest, this.deps.clock.now())) {
        this.deps.logger.warn(`[refresh] ${failure.message}; the current token stays in use`);
        return latest;
      }
      throw failure;
    }
    return this.storeRenewed(binding, latest, tokens);
  }

  /**
   * A machine grant run again, or a front end's account asked again, in place of a refresh. A refused grant (a
   * rejected assertion, a revoked client) is final and reported as itself, not as an expired sign-in, since no person
   * can fix it by signing in; a front end's account reports `needs_sign_in` when a person can.
   */
  private async renewLocked(binding: AccountRef, latest: Credential, renew: TokenRenewal, trigger: RefreshTrigger['kind']): Promise<Credential> {
    this.deps.logger.info(`[refresh] renewing the credential for ${binding.serverUrl} without a refresh token`);
    const wasRejected = trigger !== 'due';
    let tokens: TokenSet;
    try {
      tokens = await renew(latest, trigger);
    } catch (error) {
      const failure = toKeyringError(error, 'token renewal');
      const now = this.deps.clock.now();
      const outcome = leavesGrantStanding(failure) ? 'retrying' : 'rejected';
      await this.deps.repository.putCredential({ ...latest, lastRefresh: { at: now, outcome, code: failure.code } });
      if (outcome === 'retrying' && !wasRejected && isStillValid(latest, now)) {
        this.deps.logger.warn(`[refresh] ${failure.message}; the current token stays in use`);
        return latest;
      }
      throw failure;
    }
    return this.storeRenewed(binding, latest, tokens);
  }

  private async storeRenewed(binding: AccountRef, latest: Credential, tokens: TokenSet): Promise<Credential> {
    const refreshedAt = this.deps.clock.now();
    const { dpopKey: previousKey, ...unbound } = latest;
    const updated: Credential = {
      ...unbound,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken ?? latest.refreshToken,
      tokenType: tokens.tokenType,
      // Bound to the key only when the server issued a DPoP token again (it renews with the same key).
      ...boundKey(tokens),
      scopes: tokens.scopes ?? latest.scopes,
      expiresAt: expiry(tokens, refreshedAt),
      obtainedAt: refreshedAt,
      lastRefresh: { at: refreshedAt, outcome: 'ok' },
      needsSignIn: false,
    };
    await this.deps.repository.putCredential(updated);
    this.deps.onChange?.({ serverUrl: binding.serverUrl, accountId: await accountId(binding), kind: 'refreshed' });
    return updated;
  }

  /**
   * The stored credential when someone else rotated its refresh token while this refresh ran. The lock can be held
   * twice (a SecretStorage lease race, a file lock taken over from a holder that stalled); the winner's refresh token
   * is then the only valid one, and writing this refresh's outcome over it would lose the sign-in.
   */
  private async rotatedMeanwhile(binding: AccountRef, latest: Credential, failure: KeyringError): Promise<Credential | undefined> {
    let current: Credential | undefined;
    try {
      current = await this.deps.repository.getCredential(binding);
    } catch (readError) {
      // Whether it was rotated cannot be known, so nothing is written over it; the refresh's own failure is the news.
      this.deps.logger.warn(`[refresh] could not read the credential for ${binding.serverUrl} again (${shortErrorCode(readError)}); nothing written`);
      throw failure;
    }
    if (!current) throw notSignedIn(binding);
    if (current.refreshToken === latest.refreshToken) return undefined;
    if (current.needsSignIn) throw signInExpired(binding);
    this.deps.logger.info(`[refresh] another refresh rotated the refresh token for ${binding.serverUrl} meanwhile; using its tokens`);
    return current;
  }

  /**
   * Stops using a credential whose sign-in ended elsewhere (`code` says how), unless it was replaced since `judged`
   * was read: whoever replaced it still had the sign-in. Under the credential's lock, so no refresh stores over it.
   */
  async endSignIn(judged: Credential, code: string, reason: string): Promise<void> {
    await this.deps.repository.withCredentialLock(judged, async () => {
      const latest = await this.deps.repository.getCredential(judged);
      if (!latest || latest.needsSignIn || latest.accessToken !== judged.accessToken) return;
      await this.storeNeedsSignIn(judged, latest, code);
      this.deps.logger.warn(`[accounts] ${reason}; marked as needing sign-in`);
    });
  }

  private async markNeedsSignIn(binding: AccountRef, credential: Credential, code: string, reason: string): Promise<never> {
    await this.storeNeedsSignIn(binding, credential, code);
    this.deps.logger.warn(`[refresh] ${reason}; marked as needing sign-in`);
    throw new KeyringError('needs_sign_in', `the sign-in has expired (${code}); sign in again`);
  }

  /** Kept for display and for a later sign-in's context; never silently deleted. */
  private async storeNeedsSignIn(binding: AccountRef, credential: Credential, code: string): Promise<void> {
    await this.deps.repository.putCredential({ ...credential, needsSignIn: true, lastRefresh: { at: this.deps.clock.now(), outcome: 'rejected', code } });
    this.deps.onChange?.({ serverUrl: binding.serverUrl, accountId: await accountId(binding), kind: 'needsSignIn' });
  }
}

/**
 * An outage, or a garbled answer (a proxy's error page, a cut-off body): it says nothing about the grant, so the
 * current token stays in use while it is still valid and nobody is asked to sign in.
 */
function leavesGrantStanding(failure: KeyringError): boolean {
  return isTransient(failure) || failure.code === 'invalid_response';
}

function notSignedIn(binding: AccountRef): KeyringError {
  return new KeyringError('not_signed_in', `not signed in to ${binding.serverUrl} as ${binding.account}`);
}

function signInExpired(binding: AccountRef): KeyringError {
  return new KeyringError('needs_sign_in', `the sign-in to ${binding.serverUrl} has expired; sign in again`);
}

function boundKey(tokens: TokenSet): Pick<Credential, 'dpopKey'> {
  return tokens.dpopKey ? { dpopKey: tokens.dpopKey } : {};
}

function expiry(tokens: TokenSet, now: number): number | undefined {
  return tokens.expiresInSeconds === undefined ? undefined : now + tokens.expiresInSeconds * 1000;
}

/** `work`'s outcome if it settles within `ms`, else `fallback` (the work goes on for whoever else awaits it). */
function settledWithin<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([work, waited]).finally(() => clearTimeout(timer));
}

export function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new KeyringError('cancelled', 'cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new KeyringError('cancelled', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
