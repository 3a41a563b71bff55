// One wait for the browser to come back with a sign-in callback, shared by the redirect receivers (loopback, URI
// handler): it ends with the callback, with `timeout`, or with `cancelled` (the caller's signal or the receiver's
// disposal), and a receiver waits only once.
import { KeyringError } from './errors';
import type { Logger, Timers } from './ports';

export interface CallbackWaitOptions {
  readonly timers: Timers;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** The receiver's log tag, e.g. `[loopback]`. */
  readonly logTag: string;
}

export class CallbackWait {
  private isUsed = false;
  private cancelPending: (() => void) | undefined;

  constructor(private readonly options: CallbackWaitOptions) {}

  /**
   * Waits once. `listen` starts listening and is handed the function that delivers the callback (it may deliver at
   * once); it returns the function that stops listening, which runs however the wait ends.
   */
  wait(signal: AbortSignal, listen: (deliver: (url: URL) => void) => () => void): Promise<URL> {
    if (this.isUsed) return Promise.reject(new KeyringError('usage', 'this redirect receiver has already been used; create a new one'));
    this.isUsed = true;
    const { timers, timeoutMs, logger, logTag } = this.options;
    return new Promise<URL>((resolve, reject) => {
      let isSettled = false;
      let stopListening: (() => void) | undefined;
      const settle = (outcome: () => void): void => {
        if (isSettled) return;
        isSettled = true;
        timers.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.cancelPending = undefined;
        stopListening?.();
        outcome();
      };
      const onAbort = (): void => settle(() => reject(new KeyringError('cancelled', 'sign-in was cancelled')));
      const timer = timers.setTimeout(() => {
        logger.warn(`${logTag} timed out waiting for the browser to come back`);
        settle(() => reject(new KeyringError('timeout', `no sign-in callback arrived within ${Math.round(timeoutMs / 1000)} s`)));
      }, timeoutMs);
      if (signal.aborted) return onAbort();
      this.cancelPending = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
      const stop = listen((url) => settle(() => resolve(url)));
      if (isSettled) stop();
      else stopListening = stop;
    });
  }

  /** Idempotent. A pending wait ends with `cancelled`, and no wait can start afterwards. */
  dispose(): void {
    this.isUsed = true;
    this.cancelPending?.();
  }
}
