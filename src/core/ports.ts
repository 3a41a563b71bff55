// The small interfaces through which the engine reaches the outside world. Adapters (src/node, src/vscode)
// implement them; tests pass fakes of exactly these and nothing else.
import type { AddressClass, DestinationPolicy } from './addresses';

/** Lines are tagged `[component]` by the caller and must already be free of secrets (see redact). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Clock {
  /** Milliseconds since the epoch: wall-clock time, so that schedules survive sleep. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Timer functions, injectable so that tests move time themselves. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The platform's fetch (web-standard). The engine wraps it with timeouts, size caps and address checks. */
export type FetchFn = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Resolves a host name to its IP addresses, so the engine can refuse private destinations before connecting. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/**
 * How the engine reaches servers. `fetch` connects only to addresses the policy allows and refuses with
 * `forbidden_address` otherwise; `probe` reaches the MCP server the person chose, wherever it is, and says the class
 * of the address it reached, which sets the policy for everything that server names. Node checks the address it
 * actually connects to (src/node/guardedNetwork.ts); a platform whose fetch takes no resolver checks a lookup made
 * just before (lookupCheckedNetwork).
 */
export interface Network {
  fetch(url: URL, init: RequestInit, policy: DestinationPolicy): Promise<Response>;
  probe(url: URL, init: RequestInit): Promise<{ readonly response: Response; readonly addressClass: AddressClass }>;
}

/** Opens a URL in the user's browser. */
export type OpenUrl = (url: string) => Promise<void>;

/**
 * Where the authorization server sends the browser back to: a loopback listener, the editor's URI handler…
 * `waitForCallback` resolves with the full callback URL once a request carrying `expectedState` arrives; requests
 * with another state are ignored. It rejects with a KeyringError `timeout` or `cancelled`.
 */
export interface RedirectReceiver {
  readonly redirectUri: string;
  waitForCallback(expectedState: string, signal: AbortSignal): Promise<URL>;
  dispose(): void;
}

/** What a receiver factory knows about the sign-in it serves, so an adapter can pick a redirect strategy per server. */
export interface SignInContext {
  readonly serverUrl: string;
  readonly issuer: string;
  /**
   * Loopback ports the issuer holds a registration of ours for, newest first. A loopback receiver listens on the first
   * of them that is free (else on any port), so that the registration serves again at a server that matches redirect
   * URIs exactly, port included, as many do despite RFC 8252 §7.3.
   */
  readonly registeredLoopbackPorts: readonly number[];
}

export type CreateReceiver = (context: SignInContext) => Promise<RedirectReceiver>;

/**
 * Key-value storage for the engine's records. Values are JSON text that may contain secrets, so an
 * implementation keeps them private (0600 files, SecretStorage). `withLock` serialises work on one key across
 * processes or windows; implementations that cannot lock across processes still serialise within one.
 */
export interface KeyringStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/**
 * What a person needs to approve a device authorization (RFC 8628 §3.3) on another device or in a browser. It never
 * carries the device code, which is a secret between the client and the authorization server.
 */
export interface DeviceCodePrompt {
  readonly userCode: string;
  readonly verificationUri: string;
  /** The verification URI with the user code in it, when the server offers one (for opening or a QR code). */
  readonly verificationUriComplete?: string;
  /** Epoch milliseconds after which the code is no longer accepted. */
  readonly expiresAt: number;
}

/**
 * Shows the person the user code and where to enter it, and may open the browser there. Resolves once shown, not
 * once approved: polling runs meanwhile. `signal` aborts when the attempt ends (approved, denied, expired, cancelled).
 */
export type ShowDeviceCode = (prompt: DeviceCodePrompt, signal: AbortSignal) => Promise<void>;
