// Background refresh of every credential: each one in the last part of its lifetime with jitter, a few at a time,
// backing off on network trouble and stopping when the server wants a new sign-in. Timers are only alarms; the wall
// clock decides what is due, so schedules survive sleep and clock changes.
import { isKeyringError, isTransient, shortErrorCode, type ErrorCode } from './errors';
import type { Disposable } from './events';
import type { Clock, Logger, Timers } from './ports';
import { backoffDelay, plannedRefreshAt, RETRY_PAUSE_MS, type RefreshPlanInput } from './refreshPolicy';

/** What the scheduler needs to know about one stored credential (no token in it). */
export interface ScheduledCredential extends RefreshPlanInput {
  readonly serverUrl: string;
  /** Which of the server's accounts, when it has several: each account's credential is refreshed on its own. */
  readonly accountId?: string;
}

/**
 * `ok`: the engine returned a usable credential. `retrying`: it failed for a reason worth retrying (network, 5xx)
 * and another attempt is scheduled. `needsSignIn`: the server rejected the grant; nothing more happens in the
 * background. `failed`: any other error; background attempts stop until the credential changes.
 */
type BackgroundRefreshOutcome = 'ok' | 'retrying' | 'needsSignIn' | 'failed';

interface BackgroundRefreshResult {
  readonly at: number;
  readonly outcome: BackgroundRefreshOutcome;
  readonly code?: ErrorCode;
}

export interface RefreshSchedulerOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  /** In [0, 1): draws the jitter and the backoff. */
  readonly random: () => number;
  /** Every stored credential, or only those of `serverUrl` when given (a change to one server replans that server only). */
  readonly listCredentials: (serverUrl?: string) => Promise<ScheduledCredential[]>;
  /** Refreshes silently (never prompts); may throw a KeyringError. The signal aborts when the scheduler is disposed. */
  readonly refresh: (serverUrl: string, signal: AbortSignal, accountId?: string) => Promise<void>;
  readonly logger: Logger;
  /** The `refreshBeforeExpirySeconds` setting: refresh at least this long before expiry. Read at each planning. */
  readonly refreshBeforeExpirySeconds: () => number;
  /** At most this many refreshes run at once. Default 4. */
  readonly maxConcurrent?: number;
  /** How often the wall clock is compared with the timers to notice sleep. Default 30 s. */
  readonly wakeCheckIntervalMs?: number;
}

const DEFAULT_MAX_CONCURRENT = 4;
const DEFAULT_WAKE_CHECK_INTERVAL_MS = 30_000;
/** A wall-clock drift beyond this between two wake checks means the machine slept or the clock was set. */
const CLOCK_JUMP_TOLERANCE_MS = 10_000;
/** Jitter is at most this fraction of the lead between due time and expiry. */
const JITTER_FRACTION = 0.1;
/** Jitter never pushes a refresh closer to expiry than this. */
const EXPIRY_SAFETY_MS = 5_000;
/** Node clamps longer timeouts to 1 ms; a far-off refresh is reached through several alarms instead. */
const LONGEST_TIMER_MS = 24 * 60 * 60_000;
const LOG = '[refreshScheduler]';

/** What the scheduler remembers about one credential, valid for one generation of it (its `obtainedAt`). */
interface Track {
  readonly serverUrl: string;
  readonly accountId?: string;
  readonly generation: number;
  /** In [0, 1): drawn once per generation, so repeated planning does not move the refresh around. */
  readonly jitter: number;
  /** Attempts of this generation so far; drives the backoff. */
  attempts: number;
  /** When the last attempt of this generation ended. */
  lastAttemptAt?: number;
  /** No attempt before this, after a failed or fruitless attempt (unless expiry comes first). */
  notBefore?: number;
  /** Background attempts are over for this generation (needs sign-in or a permanent failure). */
  isStopped: boolean;
  nextAt?: number;
  timer?: unknown;
}

export class RefreshScheduler implements Disposable {
  /** By `trackKey`: one track per credential (a server's account). */
  private readonly tracks = new Map<string, Track>();
  /** Credentials whose refresh is due, in the order they became due; each at most once. */
  private readonly queue: string[] = [];
  private readonly running = new Set<string>();
  private readonly maxConcurrent: number;
  private readonly wakeCheckIntervalMs: number;
  private wakeTimer: unknown;
  private lastWakeCheck: number;
  /** A planning run that has not started yet: later requests join it, since it will see their changes too. */
  private queuedPlan: Promise<void> | undefined;
  /** What the queued run plans: every credential, or those of these servers. */
  private queuedScope: Set<string> | 'all' = 'all';
  private planTail: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private isDisposed = false;

  constructor(private readonly options: RefreshSchedulerOptions) {
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
    this.wakeCheckIntervalMs = options.wakeCheckIntervalMs ?? DEFAULT_WAKE_CHECK_INTERVAL_MS;
    this.lastWakeCheck = options.clock.now();
    this.armWakeCheck();
  }

  /**
   * Recomputes the schedules from the stored credentials and the setting: every one, or only those of `serverUrl`
   * (its credentials changed), so that each refresh replans one server and not all of them. Call it whenever either
   * changes. Never rejects.
   */
  reschedule(serverUrl?: string): Promise<void> {
    if (this.isDisposed) return Promise.resolve();
    const joined = this.queuedPlan !== undefined;
    const scope = joined ? this.queuedScope : new Set<string>();
    this.queuedScope = serverUrl === undefined || scope === 'all' ? 'all' : scope.add(serverUrl);
    if (joined) return this.queuedPlan!;
    const plan = this.planTail.then(() => {
      const planned = this.queuedScope;
      this.queuedPlan = undefined;
      return this.plan(planned);
    });
    this.queuedPlan = plan;
    this.planTail = plan;
    return plan;
  }

  /** Clears every timer and aborts refreshes in flight; nothing is scheduled afterwards. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.options.timers.clearTimeout(this.wakeTimer);
    for (const track of this.tracks.values()) this.clearTimer(track);
    this.queue.length = 0;
    this.abort.abort();
  }

  private async plan(scope: Set<string> | 'all'): Promise<void> {
    let credentials: ScheduledCredential[];
    try {
      credentials = scope === 'all'
        ? await this.options.listCredentials()
        : (await Promise.all([...scope].map((serverUrl) => this.options.listCredentials(serverUrl)))).flat();
    } catch (error) {
      this.options.logger.warn(`${LOG} could not list credentials (${shortErrorCode(error)})`);
      return;
    }
    if (this.isDisposed) return;
    const now = this.options.clock.now();
    const listed = new Set<string>();
    for (const credential of credentials) {
      listed.add(trackKey(credential));
      this.planOne(credential, now);
    }
    for (const [key, track] of this.tracks) {
      if (listed.has(key) || this.running.has(key) || (scope !== 'all' && !scope.has(track.serverUrl))) continue;
      this.clearTimer(track);
      this.dequeue(key);
      this.tracks.delete(key);
    }
    this.pump();
  }

  private planOne(credential: ScheduledCredential, now: number): void {
    const key = trackKey(credential);
    if (this.running.has(key)) return; // planned again when the attempt ends
    const track = this.trackFor(credential);
    this.clearTimer(track);
    const at = this.nextAttemptAt(credential, track);
    track.nextAt = at;
    if (at !== undefined && at <= now) {
      this.enqueue(key);
    } else {
      this.dequeue(key);
      if (at !== undefined) this.armTimer(key, track, at - now);
    }
  }

  /** The track of this credential's generation: a new sign-in or a successful refresh starts afresh. */
  private trackFor(credential: ScheduledCredential): Track {
    const key = trackKey(credential);
    const existing = this.tracks.get(key);
    if (existing?.generation === credential.obtainedAt) return existing;
    if (existing) this.clearTimer(existing);
    const { serverUrl, accountId } = credential;
    const track: Track = { serverUrl, accountId, generation: credential.obtainedAt, jitter: this.options.random(), attempts: 0, isStopped: false };
    this.tracks.set(key, track);
    return track;
  }

  private nextAttemptAt(credential: ScheduledCredential, track: Track): number | undefined {
    const { expiresAt } = credential;
    const due = plannedRefreshAt(credential, this.options.refreshBeforeExpirySeconds() * 1000);
    if (due === undefined || expiresAt === undefined || track.isStopped) return undefined;
    const lead = expiresAt - due;
    const scheduled = due + Math.min(track.jitter * JITTER_FRACTION * lead, Math.max(0, expiresAt - EXPIRY_SAFETY_MS - due));
    if (track.notBefore === undefined || track.lastAttemptAt === undefined) return scheduled;
    // A retry waits out its backoff, except that one last attempt still lands before the token expires.
    const lastChance = expiresAt - EXPIRY_SAFETY_MS;
    const retryAt = track.notBefore > lastChance && track.lastAttemptAt < lastChance ? lastChance : track.notBefore;
    return Math.max(scheduled, retryAt);
  }

  private enqueue(key: string): void {
    if (!this.queue.includes(key)) this.queue.push(key);
  }

  private dequeue(key: string): void {
    const index = this.queue.indexOf(key);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** Starts queued refreshes while fewer than `maxConcurrent` run, so a wake-up with everything due is no storm. */
  private pump(): void {
    while (!this.isDisposed && this.running.size < this.maxConcurrent && this.queue.length > 0) {
      const key = this.queue.shift()!;
      const track = this.tracks.get(key);
      if (track) void this.run(key, track);
    }
  }

  /** Planning skips running credentials, so `track` stays this credential's track until the attempt ends. */
  private async run(key: string, track: Track): Promise<void> {
    const { serverUrl } = track;
    this.running.add(key);
    track.nextAt = undefined;
    this.options.logger.info(`${LOG} refreshing ${serverUrl} in the background`);
    let result: BackgroundRefreshResult;
    try {
      await this.options.refresh(serverUrl, this.abort.signal, track.accountId);
      result = { at: this.options.clock.now(), outcome: 'ok' };
    } catch (error) {
      result = this.classifyFailure(serverUrl, error);
    }
    this.running.delete(key);
    if (this.isDisposed) return;
    this.recordAttempt(track, result);
    this.pump();
    // A refresh that stored a new credential starts a new generation; one that did not is paced by `notBefore`.
    void this.reschedule(serverUrl);
  }

  private classifyFailure(serverUrl: string, error: unknown): BackgroundRefreshResult {
    const at = this.options.clock.now();
    if (!isKeyringError(error)) {
      this.options.logger.error(`${LOG} refreshing ${serverUrl} failed unexpectedly (${shortErrorCode(error)}); background refresh stops for it`);
      return { at, outcome: 'failed' };
    }
    if (isTransient(error)) {
      this.options.logger.warn(`${LOG} refreshing ${serverUrl} failed (${error.code}); will retry`);
      return { at, outcome: 'retrying', code: error.code };
    }
    if (error.code === 'needs_sign_in') {
      this.options.logger.warn(`${LOG} ${serverUrl} needs a new sign-in; background refresh stops for it`);
      return { at, outcome: 'needsSignIn', code: error.code };
    }
    // Configuration or server errors that retrying will not fix; on-demand requests still try, and say why.
    this.options.logger.warn(`${LOG} refreshing ${serverUrl} failed (${error.code}); background refresh stops for it`);
    return { at, outcome: 'failed', code: error.code };
  }

  /**
   * Paces the next attempt of the same generation. After success that generation is normally replaced; if it is not
   * (the engine found nothing due), the pause keeps the scheduler from asking again at once. Never earlier than the
   * engine's own retry pause, which would turn an earlier attempt into a no-op.
   */
  private recordAttempt(track: Track, result: BackgroundRefreshResult): void {
    track.lastAttemptAt = result.at;
    track.attempts++;
    if (result.outcome === 'needsSignIn' || result.outcome === 'failed') {
      track.isStopped = true;
      return;
    }
    track.notBefore = result.at + Math.max(RETRY_PAUSE_MS, backoffDelay(track.attempts - 1, this.options.random));
  }

  private armTimer(key: string, track: Track, delay: number): void {
    track.timer = this.options.timers.setTimeout(() => this.onTimer(key, track), Math.min(delay, LONGEST_TIMER_MS));
  }

  /** The timer only says "look now": the wall clock decides whether the refresh is due yet. */
  private onTimer(key: string, track: Track): void {
    track.timer = undefined;
    if (this.isDisposed || this.tracks.get(key) !== track || track.nextAt === undefined) return;
    const remaining = track.nextAt - this.options.clock.now();
    if (remaining > 0) return this.armTimer(key, track, remaining);
    this.enqueue(key);
    this.pump();
  }

  private clearTimer(track: Track): void {
    if (track.timer === undefined) return;
    this.options.timers.clearTimeout(track.timer);
    track.timer = undefined;
  }

  private armWakeCheck(): void {
    this.wakeTimer = this.options.timers.setTimeout(() => this.checkForClockJump(), this.wakeCheckIntervalMs);
  }

  /** Timers do not run while the machine sleeps (and ignore clock changes); a drifting wall clock says so. */
  private checkForClockJump(): void {
    if (this.isDisposed) return;
    const now = this.options.clock.now();
    const drift = now - this.lastWakeCheck - this.wakeCheckIntervalMs;
    this.lastWakeCheck = now;
    this.armWakeCheck();
    if (Math.abs(drift) <= CLOCK_JUMP_TOLERANCE_MS) return;
    this.options.logger.info(`${LOG} the clock moved ${Math.round(drift / 1000)} s more than the timers (sleep or clock change); rescheduling`);
    void this.reschedule();
  }
}

/** One track per credential: a server's account, or the server itself for a caller that does not name accounts. */
function trackKey(credential: Pick<ScheduledCredential, 'serverUrl' | 'accountId'>): string {
  return JSON.stringify([credential.serverUrl, credential.accountId ?? null]);
}
