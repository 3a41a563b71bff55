// The lock across editor windows behind the SecretStorage store: a lease record in SecretStorage itself, written,
// read back after a pause, renewed while the work runs, and deleted after it.
import { KeyringError, shortErrorCode } from '../core/errors';
import type { Clock, Logger, Timers } from '../core/ports';
import { SECRET_KEY_PREFIX } from './ids';

export interface LeaseOptions {
  /** A lease its holder has not renewed for this long is taken over (its window crashed or hangs). */
  readonly leaseMs: number;
  /** How often a holder renews its lease while its work runs. Well below `leaseMs`. */
  readonly renewEveryMs: number;
  /** The pause between writing a lease and reading it back: longer than another window's read-then-write. */
  readonly settleMs: number;
  /** How long `withLock` waits for the lock before failing with `timeout`. */
  readonly timeoutMs: number;
  /** First and longest pause between looks at a lease someone else holds (a release also ends the pause). */
  readonly firstRetryMs: number;
  readonly longestRetryMs: number;
}

export const DEFAULT_LEASE_OPTIONS: LeaseOptions = {
  leaseMs: 30_000,
  renewEveryMs: 10_000,
  settleMs: 75,
  timeoutMs: 60_000,
  firstRetryMs: 25,
  longestRetryMs: 1_000,
};

/** SecretStorage reads and writes as the store makes them (failures already turned into `store_failed`). */
export interface LeaseRecords {
  read(name: string): Promise<string | undefined>;
  write(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

export interface SecretStorageLeasesOptions {
  readonly records: LeaseRecords;
  readonly logger: Logger;
  /** Wall clock for lease expiry (leases are compared across windows). */
  readonly clock: Clock;
  readonly timers: Timers;
  /** In [0, 1): jitters the pauses between lease checks so waiting windows do not retry in lockstep. */
  readonly random: () => number;
  /** Names this window in lease records. */
  readonly ownerId: string;
  readonly lease: LeaseOptions;
}

/** Leases live under `mcpKeyring/lease/<key>`. */
const LEASE_PREFIX = `${SECRET_KEY_PREFIX}lease/`;
const LOG = '[secretStorage]';

interface Lease {
  readonly owner: string;
  /** Unique per acquisition, so a holder never mistakes an older lease of its own window for the current one. */
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * Cross-window locking through SecretStorage, which has no compare-and-swap: acquire = read the lease; if it is
 * absent or expired, write ours, wait `settleMs`, read it back and proceed only if it is still ours; otherwise wait
 * (woken early when the lease changes) and try again until the deadline. The holder renews the lease while its work
 * runs and deletes it afterwards only if it is still its own.
 *
 * Residual race, accepted: if window B read "no lease" but its write lands only after window A has read back its own
 * lease (B's extension host stalled for longer than `settleMs` between read and write), both proceed. The same holds
 * for a holder that is stalled past `leaseMs` (its lease is taken over while it still works), and for windows whose
 * extension hosts run on machines with clocks more than `leaseMs` apart (remote windows share one SecretStorage on
 * the client). For refresh this is tolerable: the engine re-reads the credential under the lock and skips a refresh
 * that another window has just done, and a double refresh costs at worst one rotated refresh token.
 */
export class SecretStorageLeases {
  private readonly watchers = new Map<string, Set<() => void>>();
  private acquisitions = 0;

  constructor(private readonly options: SecretStorageLeasesOptions) {}

  /** Runs `work` holding the lease on `key`, acquired before `deadline` or failing with `timeoutError()`. */
  async hold<T>(key: string, deadline: number, timeoutError: () => Error, work: () => Promise<T>): Promise<T> {
    const lease = await this.acquire(key, deadline, timeoutError);
    const renewal = this.keepRenewing(key, lease);
    try {
      return await work();
    } finally {
      await renewal.stop();
      await this.release(key, lease);
    }
  }

  /** Told of every SecretStorage change: a change of a lease (most often its release) wakes those waiting for it. */
  noteChange(name: string): void {
    if (!name.startsWith(LEASE_PREFIX)) return;
    for (const wake of this.watchers.get(name.slice(LEASE_PREFIX.length)) ?? []) wake();
  }

  private async acquire(key: string, deadline: number, timeoutError: () => Error): Promise<Lease> {
    const { records, clock, lease: timing } = this.options;
    const name = LEASE_PREFIX + key;
    let pause = timing.firstRetryMs;
    for (;;) {
      const current = parseLease(await records.read(name));
      if (!current || current.expiresAt <= clock.now()) {
        if (current) this.options.logger.info(`${LOG} taking over an expired lock lease (its window stopped renewing it)`);
        const ours: Lease = { owner: this.options.ownerId, token: `${this.options.ownerId}:${++this.acquisitions}`, expiresAt: clock.now() + timing.leaseMs };
        await records.write(name, JSON.stringify(ours));
        await this.sleep(timing.settleMs);
        if (parseLease(await records.read(name))?.token === ours.token) return ours;
      }
      const remaining = deadline - clock.now();
      if (remaining <= 0) throw timeoutError();
      await this.sleepUnlessLeaseChanges(key, Math.min(remaining, pause / 2 + (this.options.random() * pause) / 2));
      pause = Math.min(pause * 2, timing.longestRetryMs);
    }
  }

  /** Renews the lease every `renewEveryMs` until stopped; `stop` waits for a renewal in flight, so none outlives the release. */
  private keepRenewing(key: string, lease: Lease): { stop(): Promise<void> } {
    const { records, clock, timers, logger } = this.options;
    const name = LEASE_PREFIX + key;
    let isStopped = false;
    let timer: unknown;
    let inFlight: Promise<void> = Promise.resolve();
    const renew = async (): Promise<void> => {
      const current = parseLease(await records.read(name));
      if (isStopped) return;
      if (current?.token !== lease.token) {
        logger.warn(`${LOG} another window took over a lock lease while this one still worked under it`);
        return;
      }
      await records.write(name, JSON.stringify({ ...lease, expiresAt: clock.now() + this.options.lease.leaseMs } satisfies Lease));
      if (!isStopped) schedule();
    };
    const schedule = (): void => {
      timer = timers.setTimeout(() => {
        inFlight = renew().catch((error: unknown) => logger.warn(`${LOG} could not renew a lock lease (${shortErrorCode(error)})`));
      }, this.options.lease.renewEveryMs);
    };
    schedule();
    return {
      stop: () => {
        isStopped = true;
        timers.clearTimeout(timer);
        return inFlight;
      },
    };
  }

  /** Never throws: a lease left behind expires by itself, and the work's own outcome matters more. */
  private async release(key: string, lease: Lease): Promise<void> {
    const name = LEASE_PREFIX + key;
    try {
      if (parseLease(await this.options.records.read(name))?.token === lease.token) await this.options.records.delete(name);
    } catch (error) {
      this.options.logger.warn(`${LOG} could not release a lock lease; it expires by itself (${shortErrorCode(error)})`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => this.options.timers.setTimeout(done, ms));
  }

  /** A pause that a change of the key's lease (most often its release) ends early. */
  private sleepUnlessLeaseChanges(key: string, ms: number): Promise<void> {
    const { timers } = this.options;
    return new Promise((done) => {
      const watchers = this.watchers.get(key) ?? new Set<() => void>();
      this.watchers.set(key, watchers);
      const wake = (): void => {
        timers.clearTimeout(timer);
        watchers.delete(wake);
        if (watchers.size === 0 && this.watchers.get(key) === watchers) this.watchers.delete(key);
        done();
      };
      const timer = timers.setTimeout(wake, ms);
      watchers.add(wake);
    });
  }
}

function parseLease(text: string | undefined): Lease | undefined {
  if (text === undefined) return undefined;
  try {
    const lease = JSON.parse(text) as Partial<Lease>;
    return typeof lease.owner === 'string' && typeof lease.token === 'string' && typeof lease.expiresAt === 'number' ? (lease as Lease) : undefined;
  } catch {
    return undefined;
  }
}

/** The lock's wait ran out; the key's first part names the record kind, never a secret. */
export function lockTimeout(key: string): KeyringError {
  return new KeyringError('timeout', `timed out waiting for another editor window to finish with a stored record (${key.split(':')[0]})`);
}
