// The editor's URI handler as a RedirectReceiver: the browser comes back to `<uriScheme>://mcp-keyring.mcp-keyring/callback`
// (or the http(s) URL `asExternalUri` maps it to) and the callback goes to the pending sign-in whose `state` it carries.
import type * as vscode from 'vscode';
import { CallbackWait } from '../core/callbackWait';
import type { Disposable } from '../core/events';
import { systemTimers, type Logger, type RedirectReceiver, type Timers } from '../core/ports';
import { constantTimeEqual } from '../node/constantTimeEqual';
import { EXTENSION_ID, URI_CALLBACK_PATH } from './ids';

/** The parts of a `vscode.Uri` the handler reads. */
export type CallbackUri = Pick<vscode.Uri, 'path' | 'query'>;

/** `U` is `vscode.Uri` in the editor; tests use any object that prints as a URI. */
export interface UriHandlerCallbacksOptions<U extends { toString(skipEncoding?: boolean): string }> {
  /** `vscode.env.uriScheme`: `vscode`, `vscode-insiders`, `code-oss`… */
  readonly uriScheme: string;
  /** `vscode.Uri.parse`. */
  readonly parseUri: (value: string) => U;
  /** `vscode.env.asExternalUri`: desktop keeps the custom scheme; web and remote may give an http(s) URL. */
  readonly asExternalUri: (uri: U) => PromiseLike<U>;
  readonly logger: Logger;
  /** How long a receiver waits for the browser to come back before failing with `timeout`. */
  readonly timeoutMs: number;
  readonly timers?: Timers;
}

interface PendingCallback {
  readonly expectedState: string;
  readonly redirectUri: string;
  resolve(url: URL): void;
}

const LOG = '[uriHandler]';

/**
 * Registered once with `window.registerUriHandler`. Several sign-ins (to different servers) may wait at once; each
 * waits for its own `state`, and a callback nobody waits for is dropped.
 */
export class UriHandlerCallbacks<U extends { toString(skipEncoding?: boolean): string }> implements Disposable {
  private readonly pending = new Set<PendingCallback>();
  private readonly receivers = new Set<UriHandlerReceiver>();
  private readonly timers: Timers;

  constructor(private readonly options: UriHandlerCallbacksOptions<U>) {
    this.timers = options.timers ?? systemTimers;
  }

  /** `vscode.UriHandler.handleUri`. Logs never include the query: it carries the authorization code. */
  handleUri(uri: CallbackUri): void {
    if (uri.path !== URI_CALLBACK_PATH) {
      this.options.logger.info(`${LOG} ignored a URI that is not a sign-in callback`);
      return;
    }
    // The engine's states are URL-safe, so either reading of the query finds the same one.
    const state = new URLSearchParams(uri.query).get('state');
    const waiter = state === null ? undefined : this.findWaiter(state);
    if (!waiter) {
      this.options.logger.warn(`${LOG} ignored a callback that matches no pending sign-in`);
      return;
    }
    const params = callbackParams(uri.query, waiter.redirectUri);
    this.options.logger.info(params.has('error') ? `${LOG} received a callback reporting an error` : `${LOG} received the callback`);
    const url = new URL(waiter.redirectUri);
    url.search = params.toString();
    url.hash = '';
    waiter.resolve(url);
  }

  /** A receiver for one sign-in; its redirect URI is computed afresh, since `asExternalUri` results must not be cached. */
  async createReceiver(): Promise<RedirectReceiver> {
    const callbackUri = this.options.parseUri(`${this.options.uriScheme}://${EXTENSION_ID}${URI_CALLBACK_PATH}`);
    // Kept exactly as the editor gives it, query included: in web editors that query routes the callback back here.
    // Unencoded: vscode.Uri would percent-encode the `=` and `&` of the editor's own callback query, and the web
    // editor then cannot match the callback to its request.
    const redirectUri = (await this.options.asExternalUri(callbackUri)).toString(true);
    const receiver = new UriHandlerReceiver(redirectUri, this.pending, this.timers, this.options.timeoutMs, this.options.logger, () => this.receivers.delete(receiver));
    this.receivers.add(receiver);
    return receiver;
  }

  /** Pending sign-ins end with `cancelled`. */
  dispose(): void {
    for (const receiver of [...this.receivers]) receiver.dispose();
  }

  /** Compares with every pending state, each in constant time, so timing tells nothing about any of them. */
  private findWaiter(state: string): PendingCallback | undefined {
    let found: PendingCallback | undefined;
    for (const waiter of this.pending) {
      if (constantTimeEqual(state, waiter.expectedState) && !found) found = waiter;
    }
    return found;
  }
}

class UriHandlerReceiver implements RedirectReceiver {
  private isDisposed = false;
  private readonly callbackWait: CallbackWait;

  constructor(
    readonly redirectUri: string,
    private readonly pending: Set<PendingCallback>,
    timers: Timers,
    timeoutMs: number,
    logger: Logger,
    private readonly onDispose: () => void,
  ) {
    this.callbackWait = new CallbackWait({ timers, timeoutMs, logger, logTag: LOG });
  }

  waitForCallback(expectedState: string, signal: AbortSignal): Promise<URL> {
    return this.callbackWait.wait(signal, (deliver) => {
      const waiter: PendingCallback = { expectedState, redirectUri: this.redirectUri, resolve: deliver };
      this.pending.add(waiter);
      return () => this.pending.delete(waiter);
    });
  }

  /** Idempotent. A pending `waitForCallback` rejects with `cancelled`. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.callbackWait.dispose();
    this.onDispose();
  }
}

/**
 * The callback's parameters, read from `uri.query` the way the editor filled it, which depends on the redirect URI:
 * - http(s) (web and remote editors, from `asExternalUri`): the editor's callback page passes the query on as
 *   `URLSearchParams.toString()` gives it, so it is form data, escapes intact.
 * - the editor's own scheme (desktop): `vscode.Uri.parse` has already percent-decoded it. Reading that as form data
 *   would make a `+` a space and decode a `%` twice, so it is split on `&` and each pair's first `=`, nothing
 *   decoded. A `&` or `=` that was escaped inside a name or a `&` inside a value cannot be told from a separator any
 *   more; values with `+`, `%` and `=` come through as the server sent them.
 */
export function callbackParams(query: string, redirectUri: string): URLSearchParams {
  if (/^https?:/i.test(redirectUri)) return new URLSearchParams(query);
  const params = new URLSearchParams();
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const separator = pair.indexOf('=');
    if (separator < 0) params.append(pair, '');
    else params.append(pair.slice(0, separator), pair.slice(separator + 1));
  }
  return params;
}
