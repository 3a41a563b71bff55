// Fakes of the engine's ports (store, clock and timers, fetch, DNS, logger) shared by the unit tests, and assertion
// helpers for KeyringError codes.
import assert from 'node:assert/strict';
import { isKeyringError, type ErrorCode, type KeyringError } from '../../../src/core/errors';
import { HttpClient } from '../../../src/core/http';
import { lookupCheckedNetwork, type PlatformNetwork } from '../../../src/core/lookupCheckedNetwork';
import type { Clock, FetchFn, KeyringStore, Logger, ResolveHost, Timers } from '../../../src/core/ports';

/** An in-memory KeyringStore whose `withLock` really serialises work on a key. */
export class MemoryStore implements KeyringStore {
  readonly values = new Map<string, string>();
  /** Called after each write, so a test can observe the order of writes and other events. */
  onSet: (key: string, value: string) => void | Promise<void> = () => {};
  /** Every `withLock` call so far, by key: a test can see that a caller now waits for a lock. */
  readonly lockRequests: string[] = [];
  private readonly locks = new Map<string, Promise<unknown>>();

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(key));
  }
  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    await this.onSet(key, value);
  }
  delete(key: string): Promise<void> {
    this.values.delete(key);
    return Promise.resolve();
  }
  keys(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.values.keys()].filter((key) => key.startsWith(prefix)));
  }
  withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    this.lockRequests.push(key);
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.locks.set(key, next.catch(() => undefined));
    return next;
  }
}

export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let current = start;
  return { now: () => current, advance: (ms) => { current += ms; } };
}

export interface RecordedRequest {
  readonly url: string;
  readonly init: RequestInit | undefined;
}

export type Route = (url: URL, init: RequestInit | undefined) => Response | Promise<Response>;

export interface FakeFetch {
  readonly fetch: FetchFn;
  readonly requests: RecordedRequest[];
  /** URLs requested, in order. */
  urls(): string[];
}

/** A fetch that answers from a table of exact URLs (href) to routes; anything else is a 404. */
export function routerFetch(routes: Record<string, Route> = {}): FakeFetch {
  const requests: RecordedRequest[] = [];
  const fetch: FetchFn = async (input, init) => {
    const url = new URL(input);
    requests.push({ url: url.href, init });
    const route = routes[url.href];
    return route ? route(url, init) : new Response('not found', { status: 404 });
  };
  return { fetch, requests, urls: () => requests.map((request) => request.url) };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A route answering the same JSON document on every request. */
export function jsonRoute(body: unknown, status = 200, headers: Record<string, string> = {}): Route {
  return () => json(body, status, headers);
}

/** Resolves listed hosts to their addresses and every other host to `fallback`. */
export function fakeResolveHost(table: Record<string, string[]> = {}, fallback: string[] = ['127.0.0.1']): ResolveHost & { readonly looked: string[] } {
  const looked: string[] = [];
  const resolve = (hostname: string) => {
    looked.push(hostname);
    return Promise.resolve(table[hostname] ?? fallback);
  };
  return Object.assign(resolve, { looked });
}

export interface RecordingLogger extends Logger {
  readonly lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => { lines.push(`${level} ${message}`); };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/** An HttpClient over a fake fetch, its addresses checked on lookups by a fake resolver (loopback by default). */
/** A platform network over a plain fetch: no check where it connects, no address known from its probe. */
export function platformNetworkOver(fetch: FetchFn): PlatformNetwork {
  return {
    fetch: (url, init) => fetch(url, init),
    probe: async (url, init) => ({ response: await fetch(url, init) }),
  };
}

export function httpClientOver(fetch: FetchFn, options: { resolveHost?: ResolveHost; timeoutMs?: number; logger?: Logger } = {}): HttpClient {
  return new HttpClient({
    network: lookupCheckedNetwork(platformNetworkOver(fetch), options.resolveHost ?? fakeResolveHost()),
    logger: options.logger ?? recordingLogger(),
    timeoutMs: options.timeoutMs,
  });
}

/** Asserts that `promise` rejects with a KeyringError of `code`, and returns that error for further checks. */
export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<KeyringError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assertKeyringError(caught, code);
  return caught;
}

/** Asserts that `work` throws a KeyringError of `code`, and returns it. */
export function throwsWithCode(work: () => unknown, code: ErrorCode): KeyringError {
  let caught: unknown;
  assert.throws(work, (error: unknown) => {
    caught = error;
    return true;
  });
  assertKeyringError(caught, code);
  return caught;
}

function assertKeyringError(error: unknown, code: ErrorCode): asserts error is KeyringError {
  assert.ok(isKeyringError(error), `expected a KeyringError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
}

/** Lets every pending promise chain and setImmediate callback run. */
export async function flush(rounds = 20): Promise<void> {
  for (let round = 0; round < rounds; round++) await new Promise<void>((done) => setImmediate(done));
}

const LONGEST_NODE_TIMEOUT_MS = 2 ** 31 - 1;

interface FakeTimer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * Wall clock and timers under the test's control. Timers run on their own time line, like the OS's monotonic clock
 * that stops while the machine sleeps; `advance` moves both, `jumpWallClock` only the wall clock.
 */
export class FakeTime implements Clock, Timers {
  private wall: number;
  private timerTime = 0;
  private nextHandle = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.wall = start;
  }

  now(): number {
    return this.wall;
  }

  /** Like Node's, a delay beyond 2^31 - 1 ms fires after 1 ms. */
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    const delay = ms > LONGEST_NODE_TIMEOUT_MS ? 1 : Math.max(0, ms);
    this.timers.set(handle, { at: this.timerTime + delay, order: handle, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves both clocks forward, firing due timers in order and letting promise chains settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.timerTime + ms;
    for (;;) {
      // A few turns are enough between timers: the code under test chains promises, not further event-loop turns.
      await flush(3);
      const next = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= target)
        .sort(([, a], [, b]) => a.at - b.at || a.order - b.order)[0];
      if (!next) break;
      const [handle, timer] = next;
      this.wall += timer.at - this.timerTime;
      this.timerTime = timer.at;
      this.timers.delete(handle);
      timer.callback();
    }
    this.wall += target - this.timerTime;
    this.timerTime = target;
    await flush();
  }

  /** The machine slept (or the clock was set): wall time moves, timers do not notice. */
  jumpWallClock(ms: number): void {
    this.wall += ms;
  }
}

/** A promise with its settle functions exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((done, fail) => {
    resolve = done;
    reject = fail;
  });
  return { promise, resolve, reject };
}
