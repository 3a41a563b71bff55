// Serialises work per key within one process: a caller waits for those queued ahead of it on the same key, but only
// until its deadline. The file lock (across processes) and the SecretStorage lease (across editor windows) queue their
// own callers here first, so that they wait on each other rather than poll the shared lock.
import { systemClock, systemTimers, type Clock, type Timers } from './ports';

export class KeyedQueue {
  /** The tail of each key's queue: the next caller waits for it. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly timers: Timers = systemTimers,
  ) {}

  /**
   * Runs `work` once everyone queued ahead on `key` is done; rejects with `timeoutError()` if that is not before
   * `deadline` (wall-clock milliseconds).
   */
  async run<T>(key: string, deadline: number, timeoutError: () => Error, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let leaveQueue!: () => void;
    const turn = new Promise<void>((done) => (leaveQueue = done));
    // The next caller waits for everyone ahead of us too, even if we give up early on a timeout.
    const tail = previous.then(() => turn);
    this.tails.set(key, tail);
    try {
      await this.waitForTurn(previous, deadline, timeoutError);
      return await work();
    } finally {
      leaveQueue();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  private async waitForTurn(previous: Promise<void>, deadline: number, timeoutError: () => Error): Promise<void> {
    let timer: unknown;
    const timedOut = new Promise<'timeout'>((done) => (timer = this.timers.setTimeout(() => done('timeout'), Math.max(0, deadline - this.clock.now()))));
    try {
      if ((await Promise.race([previous, timedOut])) === 'timeout') throw timeoutError();
    } finally {
      this.timers.clearTimeout(timer);
    }
  }
}
