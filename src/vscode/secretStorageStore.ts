// The extension's KeyringStore: every record in the editor's SecretStorage (never in settings or globalState), a
// cache so token reads on the hot path cost no IPC, kept honest by `secrets.onDidChange` (which also reports other
// windows' writes), and a lock that holds within this window (a keyed queue) and across editor windows (a lease
// record in SecretStorage itself, secretStorageLease.ts).
import type * as vscode from 'vscode';
import { KeyringError } from '../core/errors';
import { Emitter, type Disposable, type Listener } from '../core/events';
import { KeyedQueue } from '../core/keyedQueue';
import { systemClock, systemTimers, type Clock, type KeyringStore, type Logger, type Timers } from '../core/ports';
import { SECRET_KEY_PREFIX } from './ids';
import { DEFAULT_LEASE_OPTIONS, lockTimeout, SecretStorageLeases, type LeaseOptions } from './secretStorageLease';

/** The parts of `vscode.SecretStorage` the store uses (`context.secrets`). */
export type SecretStorageLike = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete' | 'keys' | 'onDidChange'>;

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

/** Records live under `mcpKeyring/store/<key>` (leases under `mcpKeyring/lease/<key>`); other modules use other names. */
const RECORD_PREFIX = `${SECRET_KEY_PREFIX}store/`;
/** How long after its own write a change event for that key is taken to be the echo of that write. */
const OWN_WRITE_WINDOW_MS = 2_000;

export class SecretStorageStore implements KeyringStore, Disposable {
  /** Values by record key; `undefined` caches "absent". Every change event drops the key's entry. */
  private readonly values = new Map<string, string | undefined>();
  private keyList: string[] | undefined;
  /** Bumped by every record change event; a read that saw a bump while in flight is not cached. */
  private epoch = 0;
  /** Callers in this window wait on each other rather than polling the lease. */
  private readonly queue: KeyedQueue;
  private readonly leases: SecretStorageLeases;
  private readonly changeEmitter = new Emitter<string>();
  private readonly otherWindowEmitter = new Emitter<string>();
  /** When this window wrote or deleted each record, so that the change events its own writes cause can be told apart. */
  private readonly ownWrites = new Map<string, number[]>();
  private readonly subscription: Disposable;
  private readonly clock: Clock;
  private readonly lease: LeaseOptions;

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
    const timers = options.timers ?? systemTimers;
    this.lease = { ...DEFAULT_LEASE_OPTIONS, ...options.lease };
    this.queue = new KeyedQueue(this.clock, timers);
    this.leases = new SecretStorageLeases({
      records: { read: (name) => this.read(name), write: (name, value) => this.write(name, value), delete: async (name) => { await this.options.secrets.delete(name); } },
      logger: options.logger,
      clock: this.clock,
      timers,
      random: options.random ?? Math.random,
      ownerId: options.ownerId ?? globalThis.crypto.randomUUID(),
      lease: this.lease,
    });
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
  withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + this.lease.timeoutMs;
    const timeoutError = () => lockTimeout(key);
    return this.queue.run(key, deadline, timeoutError, () => this.leases.hold(key, deadline, timeoutError, () => {
      // Another window may have written the record while we waited, and its change event may not have reached us
      // yet: the locked work must read it afresh (with refresh-token rotation, a stale read costs the sign-in).
      this.values.delete(key);
      return work();
    }));
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
    } else {
      this.leases.noteChange(name);
    }
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

function storeFailed(message: string, cause: unknown): KeyringError {
  return new KeyringError('store_failed', message, { cause });
}
