// The extension's KeyringStore: every record in the editor's SecretStorage (never in settings or globalState), a
// cache so token reads on the hot path cost no IPC, kept honest by `secrets.onDidChange` (which also reports other
// windows' writes), and a lock that holds across editor windows through a lease record in SecretStorage itself.
import type * as vscode from 'vscode';
import { KeyringError, shortErrorCode } from '../core/errors';
import { Emitter, type Disposable, type Listener } from '../core/events';
import { systemClock, systemTimers, type Clock, type KeyringStore, type Logger, type Timers } from '../core/ports';
import { SECRET_KEY_PREFIX } from './ids';

/** The parts of `vscode.SecretStorage` the store uses (`context.secrets`). */
export type SecretStorageLike = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete' | 'keys' | 'onDidChange'>;

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

export interface SecretStorageStoreOptions {
  readonly secrets: SecretStorageLike;
  readonly logger: Logger;
  /** Wall clock for lease expiry (leases are compared across windows). */
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** In [0, 1): jitters the pauses between lease checks so waiting windows do not retry in lockstep. */
  readonly random?: () => number;
  /** Names this window in lease records; random by default. */
  readonly ownerId?: string;
  readonly lease?: Partial<LeaseOptions>;
}

/** Records live under `mcpKeyring/store/<key>`, leases under `mcpKeyring/lease/<key>`; other modules use other names. */
const RECORD_PREFIX = `${SECRET_KEY_PREFIX}store/`;
const LEASE_PREFIX = `${SECRET_KEY_PREFIX}lease/`;
const LOG = '[secretStorage]';
/** How long after its own write a change event for that key is taken to be the echo of that write. */
const OWN_WRITE_WINDOW_MS = 2_000;

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
export class SecretStorageStore implements KeyringStore, Disposable {
  /** Values by record key; `undefined` caches "absent". Every change event drops the key's entry. */
  private readonly values = new Map<string, string | undefined>();
  private keyList: string[] | undefined;
  /** Bumped by every record change event; a read that saw a bump while in flight is not cached. */
  private epoch = 0;
  /** Tail of each key's queue of callers in this window; they wait on each other rather than polling the lease. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly leaseWatchers = new Map<string, Set<() => void>>();
  private readonly changeEmitter = new Emitter<string>();
  private readonly otherWindowEmitter = new Emitter<string>();
  /** When this window wrote or deleted each record, so that the change events its own writes cause can be told apart. */
  private readonly ownWrites = new Map<string, number[]>();
  private readonly subscription: Disposable;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly lease: LeaseOptions;
  readonly ownerId: string;
  private acquisitions = 0;

  /** Fires with a record key whenever it was stored or deleted, by this window or any other. */
  readonly onDidChange: (listener: Listener<string>) => Disposable = this.changeEmitter.event;

  /**
   * Fires with a record key changed by another window only. A change event within a moment of this window's own
   * write of that key is taken as that write's (two windows writing one key in the same instant cannot be told apart;
   * the key's next change shows the other).
   */
  readonly onDidChangeInAnotherWindow: (listener: Listener<string>) => Disposable = this.otherWindowEmitter.event;

  constructor(private readonly options: SecretStorageStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.random = options.random ?? Math.random;
    this.lease = { ...DEFAULT_LEASE_OPTIONS, ...options.lease };
    this.ownerId = options.ownerId ?? globalThis.crypto.randomUUID();
    this.subscription = options.secrets.onDidChange((event) => this.onSecretChanged(event.key));
  }

  async get(key: string): Promise<string | undefined> {
    if (this.values.has(key)) return this.values.get(key);
    const epoch = this.epoch;
    const value = await this.read(RECORD_PREFIX + key);
    if (epoch === this.epoch) this.values.set(key, value);
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    const epoch = this.epoch;
    this.noteOwnWrite(key);
    await this.write(RECORD_PREFIX + key, value);
    // Our own change event may arrive before or after this point. Caching only when no event arrived in between
    // means the cache can never hold a value another window has already replaced; at worst it re-reads once.
    if (epoch !== this.epoch) return;
    this.values.set(key, value);
    if (this.keyList && !this.keyList.includes(key)) this.keyList.push(key);
  }

  async delete(key: string): Promise<void> {
    const epoch = this.epoch;
    this.noteOwnWrite(key);
    try {
      await this.options.secrets.delete(RECORD_PREFIX + key);
    } catch (error) {
      throw storeFailed('could not delete a record from the editor\'s secret storage', error);
    }
    if (epoch !== this.epoch) return;
    this.values.set(key, undefined);
    if (this.keyList) this.keyList = this.keyList.filter((listed) => listed !== key);
  }

  async keys(prefix: string): Promise<string[]> {
    let list = this.keyList;
    if (!list) {
      const epoch = this.epoch;
      let all: string[];
      try {
        all = await this.options.secrets.keys();
      } catch (error) {
        throw storeFailed('could not list the editor\'s secret storage', error);
      }
      list = all.filter((name) => name.startsWith(RECORD_PREFIX)).map((name) => name.slice(RECORD_PREFIX.length));
      if (epoch === this.epoch) this.keyList = list;
    }
    return list.filter((key) => key.startsWith(prefix)).sort();
  }

  /** Serialises `work` on `key` within this window (a promise chain) and across windows (a lease). */
  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + this.lease.timeoutMs;
    const previous = this.queues.get(key) ?? Promise.resolve();
    let leaveQueue!: () => void;
    const turn = new Promise<void>((done) => (leaveQueue = done));
    // The next caller waits for everyone ahead of us too, even if we give up early on a timeout.
    const tail = previous.then(() => turn);
    this.queues.set(key, tail);
    try {
      await this.waitForTurn(previous, deadline, key);
      const lease = await this.acquireLease(key, deadline);
      // Another window may have written the record while we waited, and its change event may not have reached us
      // yet: the locked work must read it afresh (with refresh-token rotation, a stale read costs the sign-in).
      this.values.delete(key);
      const renewal = this.keepRenewing(key, lease);
      try {
        return await work();
      } finally {
        await renewal.stop();
        await this.releaseLease(key, lease);
      }
    } finally {
      leaveQueue();
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
    this.otherWindowEmitter.dispose();
  }

  private noteOwnWrite(key: string): void {
    this.ownWrites.set(key, [...(this.ownWrites.get(key) ?? []), this.clock.now()]);
  }

  /** Consumes one recent own write of `key`, if any; marks older than the window are dropped (no event came). */
  private takeOwnWrite(key: string): boolean {
    const recent = (this.ownWrites.get(key) ?? []).filter((at) => this.clock.now() - at < OWN_WRITE_WINDOW_MS);
    const isOwn = recent.length > 0;
    if (isOwn) recent.shift();
    if (recent.length > 0) this.ownWrites.set(key, recent);
    else this.ownWrites.delete(key);
    return isOwn;
  }

  private onSecretChanged(name: string): void {
    if (name.startsWith(RECORD_PREFIX)) {
      const key = name.slice(RECORD_PREFIX.length);
      this.epoch++;
      this.values.delete(key);
      this.keyList = undefined;
      this.changeEmitter.fire(key);
      if (!this.takeOwnWrite(key)) this.otherWindowEmitter.fire(key);
    } else if (name.startsWith(LEASE_PREFIX)) {
      for (const wake of this.leaseWatchers.get(name.slice(LEASE_PREFIX.length)) ?? []) wake();
    }
  }

  private async waitForTurn(previous: Promise<void>, deadline: number, key: string): Promise<void> {
    let timer: unknown;
    const timedOut = new Promise<'timeout'>((done) => (timer = this.timers.setTimeout(() => done('timeout'), Math.max(0, deadline - this.clock.now()))));
    try {
      if ((await Promise.race([previous, timedOut])) === 'timeout') throw lockTimeout(key);
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  private async acquireLease(key: string, deadline: number): Promise<Lease> {
    const name = LEASE_PREFIX + key;
    let pause = this.lease.firstRetryMs;
    for (;;) {
      const current = parseLease(await this.read(name));
      if (!current || current.expiresAt <= this.clock.now()) {
        if (current) this.options.logger.info(`${LOG} taking over an expired lock lease (its window stopped renewing it)`);
        const ours: Lease = { owner: this.ownerId, token: `${this.ownerId}:${++this.acquisitions}`, expiresAt: this.clock.now() + this.lease.leaseMs };
        await this.write(name, JSON.stringify(ours));
        await this.sleep(this.lease.settleMs);
        if (parseLease(await this.read(name))?.token === ours.token) return ours;
      }
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) throw lockTimeout(key);
      await this.sleepUnlessLeaseChanges(key, Math.min(remaining, pause / 2 + (this.random() * pause) / 2));
      pause = Math.min(pause * 2, this.lease.longestRetryMs);
    }
  }

  /** Renews the lease every `renewEveryMs` until stopped; `stop` waits for a renewal in flight, so none outlives the release. */
  private keepRenewing(key: string, lease: Lease): { stop(): Promise<void> } {
    const name = LEASE_PREFIX + key;
    let isStopped = false;
    let timer: unknown;
    let inFlight: Promise<void> = Promise.resolve();
    const renew = async (): Promise<void> => {
      const current = parseLease(await this.read(name));
      if (isStopped) return;
      if (current?.token !== lease.token) {
        this.options.logger.warn(`${LOG} another window took over a lock lease while this one still worked under it`);
        return;
      }
      await this.write(name, JSON.stringify({ ...lease, expiresAt: this.clock.now() + this.lease.leaseMs } satisfies Lease));
      if (!isStopped) schedule();
    };
    const schedule = (): void => {
      timer = this.timers.setTimeout(() => {
        inFlight = renew().catch((error: unknown) => this.options.logger.warn(`${LOG} could not renew a lock lease (${shortErrorCode(error)})`));
      }, this.lease.renewEveryMs);
    };
    schedule();
    return {
      stop: () => {
        isStopped = true;
        this.timers.clearTimeout(timer);
        return inFlight;
      },
    };
  }

  /** Never throws: a lease left behind expires by itself, and the work's own outcome matters more. */
  private async releaseLease(key: string, lease: Lease): Promise<void> {
    const name = LEASE_PREFIX + key;
    try {
      if (parseLease(await this.read(name))?.token === lease.token) await this.options.secrets.delete(name);
    } catch (error) {
      this.options.logger.warn(`${LOG} could not release a lock lease; it expires by itself (${shortErrorCode(error)})`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => this.timers.setTimeout(done, ms));
  }

  /** A pause that a change of the key's lease (most often its release) ends early. */
  private sleepUnlessLeaseChanges(key: string, ms: number): Promise<void> {
    return new Promise((done) => {
      const watchers = this.leaseWatchers.get(key) ?? new Set<() => void>();
      this.leaseWatchers.set(key, watchers);
      const wake = (): void => {
        this.timers.clearTimeout(timer);
        watchers.delete(wake);
        if (watchers.size === 0 && this.leaseWatchers.get(key) === watchers) this.leaseWatchers.delete(key);
        done();
      };
      const timer = this.timers.setTimeout(wake, ms);
      watchers.add(wake);
    });
  }

  private async read(name: string): Promise<string | undefined> {
    try {
      return await this.options.secrets.get(name);
    } catch (error) {
      throw storeFailed('could not read from the editor\'s secret storage', error);
    }
  }

  private async write(name: string, value: string): Promise<void> {
    try {
      await this.options.secrets.store(name, value);
    } catch (error) {
      throw storeFailed('could not write to the editor\'s secret storage', error);
    }
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

function lockTimeout(key: string): KeyringError {
  return new KeyringError('timeout', `timed out waiting for another editor window to finish with a stored record (${key.split(':')[0]})`);
}

function storeFailed(message: string, cause: unknown): KeyringError {
  return new KeyringError('store_failed', message, { cause });
}
