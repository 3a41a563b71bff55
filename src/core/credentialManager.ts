// Keeps credentials fresh: hands out a stored token while it is good, refreshes it when due with exactly one
// refresh in flight per credential (in this process, and across processes through the store's lock), stores the
// new tokens before anyone sees them, and classifies failures: rejected → needs sign-in, transient → keep and retry.
import type * as oauth from 'oauth4webapi';
import type { ClientIdentities } from './clientIdentity';
import type { CredentialChange } from './events';
import { KeyringError, isKeyringError, isTransient, toKeyringError } from './errors';
import type { DestinationPolicy, HttpClient } from './http';
import { refreshTokens, type TokenSet } from './oauthExchanges';
import type { Clock, Logger } from './ports';
import { backoffDelay, isInRetryPause, isRefreshDue, isStillValid } from './refreshPolicy';
import { credentialKey, type ClientRecord, type Credential, type KeyringRepository, type ServerBinding } from './records';

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
}

/**
 * Why a refresh is considered: the credential is `due`; or its token must be replaced now — `rejected` by the server,
 * or `forced` by someone who asked (a user's Refresh Now, the background scheduler's own timing).
 */
export type RefreshTrigger = { readonly kind: 'due' } | { readonly kind: 'rejected' | 'forced'; readonly token: string };

const DUE: RefreshTrigger = { kind: 'due' };

export class CredentialManager {
  private readonly inflight = new Map<string, Promise<Credential>>();
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly deps: CredentialManagerDeps) {
    this.sleep = deps.sleep ?? sleepFor;
  }

  /** Builds and stores the credential from a completed sign-in. */
  async storeNew(binding: ServerBinding, tokens: TokenSet, requestedScopes: readonly string[]): Promise<Credential> {
    const now = this.deps.clock.now();
    const credential: Credential = {
      resource: binding.resource,
      issuer: binding.issuer,
      clientId: binding.clientId,
      account: binding.account,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      tokenType: tokens.tokenType,
      scopes: tokens.scopes ?? requestedScopes,
      expiresAt: expiry(tokens, now),
      obtainedAt: now,
      needsSignIn: false,
    };
    await this.deps.repository.putCredential(credential);
    return credential;
  }

  /**
   * A credential good to use now: the stored one while refresh is not due, else a refreshed one. A `replace`
   * trigger refreshes `token` now — because the server refused it, or because someone asked — unless another caller
   * already replaced it.
   */
  async fresh(binding: ServerBinding, context: () => Promise<RefreshContext>, trigger: RefreshTrigger = DUE): Promise<Credential> {
    const rejectedToken = trigger.kind === 'due' ? undefined : trigger.token;
    const stored = await this.deps.repository.getCredential(binding);
    if (!stored) throw new KeyringError('not_signed_in', `not signed in to ${binding.serverUrl}`);
    if (stored.needsSignIn) throw new KeyringError('needs_sign_in', `the sign-in to ${binding.serverUrl} has expired; sign in again`);
    const now = this.deps.clock.now();
    if (rejectedToken === undefined && !isRefreshDue(stored, now)) return stored;
    // During an outage, do not hammer the token endpoint on every call while the current token still works.
    if (rejectedToken === undefined && isStillValid(stored, now) && isInRetryPause(stored, now)) return stored;
    if (rejectedToken !== undefined && stored.accessToken !== rejectedToken && isStillValid(stored, now)) return stored;
    return this.refreshWithRetries(binding, context, trigger);
  }

  private async refreshWithRetries(binding: ServerBinding, context: () => Promise<RefreshContext>, trigger: RefreshTrigger): Promise<Credential> {
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
        return await this.refreshOnce(binding, contextNotingSignal, trigger);
      } catch (error) {
        if (!isKeyringError(error) || !isTransient(error) || attempt + 1 >= attempts) throw error;
        const delay = backoffDelay(attempt);
        this.deps.logger.warn(`[refresh] ${error.message}; retrying in ${delay} ms`);
        await this.sleep(delay, signal);
      }
    }
  }

  /** Single-flight: concurrent callers for one credential share one refresh. */
  private refreshOnce(binding: ServerBinding, context: () => Promise<RefreshContext>, trigger: RefreshTrigger): Promise<Credential> {
    const key = credentialKey(binding);
    const running = this.inflight.get(key);
    if (running) return running;
    const refresh = this.deps.repository.store
      .withLock(key, () => this.refreshLocked(binding, context, trigger))
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, refresh);
    return refresh;
  }

  private async refreshLocked(binding: ServerBinding, context: () => Promise<RefreshContext>, trigger: RefreshTrigger): Promise<Credential> {
    const rejectedToken = trigger.kind === 'due' ? undefined : trigger.token;
    // Another process may have refreshed while we waited for the lock; with rotation its refresh token is the only valid one.
    const latest = await this.deps.repository.getCredential(binding);
    if (!latest) throw new KeyringError('not_signed_in', `not signed in to ${binding.serverUrl}`);
    if (latest.needsSignIn) throw new KeyringError('needs_sign_in', `the sign-in to ${binding.serverUrl} has expired; sign in again`);
    const now = this.deps.clock.now();
    const replacedMeanwhile = rejectedToken !== undefined ? latest.accessToken !== rejectedToken : !isRefreshDue(latest, now);
    if (replacedMeanwhile && isStillValid(latest, now)) return latest;
    if (!latest.refreshToken) {
      // Without a refresh token there is nothing to renew; only a token the server refused ends the sign-in.
      if (trigger.kind !== 'rejected' && isStillValid(latest, now)) return latest;
      return this.markNeedsSignIn(binding, latest, 'no_refresh_token', 'the access token can no longer be used and the server issued no refresh token');
    }

    const { as, client, policy, signal } = await context();
    this.deps.logger.info(`[refresh] refreshing the credential for ${binding.serverUrl}`);
    let tokens: TokenSet;
    try {
      tokens = await refreshTokens(this.deps.http, policy, as, client, latest.refreshToken, latest.resource, signal);
    } catch (error) {
      const failure = toKeyringError(error, 'token refresh');
      if (failure.code === 'invalid_grant' || failure.code === 'invalid_client') {
        if (failure.code === 'invalid_client' && client.origin === 'dynamic-registration') await this.deps.identities.forget(client);
        return this.markNeedsSignIn(binding, latest, failure.code, failure.message);
      }
      if (isTransient(failure)) {
        await this.deps.repository.putCredential({ ...latest, lastRefresh: { at: now, outcome: 'retrying', code: failure.code } });
        if (rejectedToken === undefined && isStillValid(latest, this.deps.clock.now())) {
          this.deps.logger.warn(`[refresh] ${failure.message}; the current token stays in use`);
          return latest;
        }
      }
      throw failure;
    }
    const refreshedAt = this.deps.clock.now();
    const updated: Credential = {
      ...latest,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken ?? latest.refreshToken,
      tokenType: tokens.tokenType,
      scopes: tokens.scopes ?? latest.scopes,
      expiresAt: expiry(tokens, refreshedAt),
      obtainedAt: refreshedAt,
      lastRefresh: { at: refreshedAt, outcome: 'ok' },
      needsSignIn: false,
    };
    await this.deps.repository.putCredential(updated);
    this.deps.onChange?.({ serverUrl: binding.serverUrl, kind: 'refreshed' });
    return updated;
  }

  /** Kept for display and for a later sign-in's context; never silently deleted. */
  private async markNeedsSignIn(binding: ServerBinding, credential: Credential, code: string, reason: string): Promise<never> {
    await this.deps.repository.putCredential({ ...credential, needsSignIn: true, lastRefresh: { at: this.deps.clock.now(), outcome: 'rejected', code } });
    this.deps.onChange?.({ serverUrl: binding.serverUrl, kind: 'needsSignIn' });
    this.deps.logger.warn(`[refresh] ${reason}; marked as needing sign-in`);
    throw new KeyringError('needs_sign_in', `the sign-in has expired (${code}); sign in again`);
  }
}

function expiry(tokens: TokenSet, now: number): number | undefined {
  return tokens.expiresInSeconds === undefined ? undefined : now + tokens.expiresInSeconds * 1000;
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
