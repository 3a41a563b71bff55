// Reads of per-server secrets without an IPC round trip each time. Every SecretStorage read goes to the editor's main
// process (the browser, in code-server), and the relay needs a server's configuration — its client secret, private
// key, static credential — for every request it forwards. Values are kept until a change event (this window's
// writes and other windows' alike) or our own write drops them; the engine's records have their own cache
// (secretStorageStore.ts).
import type * as vscode from 'vscode';
import type { Disposable } from '../core/events';

export type SecretReadsAndWrites = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete'>;

export class CachedSecrets implements SecretReadsAndWrites, Disposable {
  /** The read in flight or done, per key; a failed read is not kept. */
  private readonly reads = new Map<string, Promise<string | undefined>>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly secrets: Pick<vscode.SecretStorage, 'get' | 'store' | 'delete' | 'onDidChange'>) {
    this.subscription = secrets.onDidChange((event) => this.reads.delete(event.key));
  }

  get(key: string): Promise<string | undefined> {
    let read = this.reads.get(key);
    if (!read) {
      read = Promise.resolve(this.secrets.get(key));
      this.reads.set(key, read);
      read.catch(() => this.reads.delete(key));
    }
    return read;
  }

  /** Dropped before and after the write: a read started meanwhile may have seen the old value. */
  async store(key: string, value: string): Promise<void> {
    this.reads.delete(key);
    await this.secrets.store(key, value);
    this.reads.delete(key);
  }

  async delete(key: string): Promise<void> {
    this.reads.delete(key);
    await this.secrets.delete(key);
    this.reads.delete(key);
  }

  dispose(): void {
    this.subscription.dispose();
    this.reads.clear();
  }
}
