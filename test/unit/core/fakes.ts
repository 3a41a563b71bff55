// Fakes of the engine's ports (store, clock, fetch, DNS, logger) shared by the core unit tests, and assertion
// helpers for KeyringError codes.
import assert from 'node:assert/strict';
import { isKeyringError, type ErrorCode, type KeyringError } from '../../../src/core/errors';
import { HttpClient } from '../../../src/core/http';
import { lookupCheckedNetwork } from '../../../src/core/lookupCheckedNetwork';
import type { FetchFn, KeyringStore, Logger, ResolveHost } from '../../../src/core/ports';

/** An in-memory KeyringStore whose `withLock` really serialises work on a key. */
export class MemoryStore implements KeyringStore {
  readonly values = new Map<string, string>();
  /** Called after each write, so a test can observe the order of writes and other events. */
  onSet: (key: string, value: string) => void | Promise<void> = () => {};
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
export function httpClientOver(fetch: FetchFn, options: { resolveHost?: ResolveHost; timeoutMs?: number; logger?: Logger } = {}): HttpClient {
  return new HttpClient({
    network: lookupCheckedNetwork(fetch, options.resolveHost ?? fakeResolveHost()),
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
