// Fakes of the VS Code objects the editor adapters touch: SecretStorage (several windows sharing one backing store,
// with change events delivered asynchronously like IPC), and a logger that records its lines.
import type { Disposable } from '../../../src/core/events';
import type { Logger } from '../../../src/core/ports';
import type { SecretStorageLike } from '../../../src/vscode/secretStorageStore';

/** What the backing store saw, in order: `<window> <operation> <key>`. */
export type SecretOperation = `${string} ${'get' | 'store' | 'delete' | 'keys'} ${string}`;

/**
 * The secret store all windows of one editor share. Every operation takes `latency()` event-loop turns before it
 * applies and as many before it answers, so operations of different windows interleave; change events reach every
 * window (the writer included) a turn after the write.
 */
export class SecretBackend {
  readonly values = new Map<string, string>();
  readonly operations: SecretOperation[] = [];
  /** When set, operations fail with this error (a locked keychain, say). */
  failure: Error | undefined;
  /** Awaited after an operation applied and before it answers: lets a test hold a response back. */
  beforeAnswer: ((operation: SecretOperation) => Promise<void>) | undefined;
  private readonly windows = new Set<FakeSecretStorage>();

  constructor(private readonly latency: () => number = () => 0) {}

  /** The `context.secrets` of one editor window. */
  window(name: string): FakeSecretStorage {
    const window = new FakeSecretStorage(this, name);
    this.windows.add(window);
    return window;
  }

  /** Writes as an outside party would (another window we do not simulate in full), with change events. */
  put(key: string, value: string): void {
    this.values.set(key, value);
    this.notify(key);
  }

  async operate<T>(operation: SecretOperation, apply: () => T): Promise<T> {
    await turns(this.latency());
    if (this.failure) throw this.failure;
    this.operations.push(operation);
    const result = apply();
    await turns(this.latency());
    await this.beforeAnswer?.(operation);
    return result;
  }

  notify(key: string): void {
    for (const window of this.windows) setImmediate(() => window.emit(key));
  }
}

export class FakeSecretStorage implements SecretStorageLike {
  private readonly listeners = new Set<(event: { key: string }) => unknown>();
  /** Operations this window sent to the backing store. */
  calls = 0;

  constructor(
    private readonly backend: SecretBackend,
    readonly name: string,
  ) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  get(key: string): Promise<string | undefined> {
    this.calls++;
    return this.backend.operate(`${this.name} get ${key}`, () => this.backend.values.get(key));
  }

  store(key: string, value: string): Promise<void> {
    this.calls++;
    return this.backend.operate(`${this.name} store ${key}`, () => {
      this.backend.values.set(key, value);
      this.backend.notify(key);
    });
  }

  delete(key: string): Promise<void> {
    this.calls++;
    return this.backend.operate(`${this.name} delete ${key}`, () => {
      this.backend.values.delete(key);
      this.backend.notify(key);
    });
  }

  keys(): Promise<string[]> {
    this.calls++;
    return this.backend.operate(`${this.name} keys *`, () => [...this.backend.values.keys()]);
  }

  readonly onDidChange = (listener: (event: { key: string }) => unknown): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  emit(key: string): void {
    for (const listener of [...this.listeners]) listener({ key });
  }
}

async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise<void>((done) => setImmediate(done));
}

export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  debug(message: string): void {
    this.lines.push(`debug ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

/** A sequence of "random" numbers for code that takes `random: () => number`; repeats the last one. */
export function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[Math.min(index++, values.length - 1)]!;
}
