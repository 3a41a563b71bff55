// Sign-ins the relay found necessary but could not run (it never prompts): a refused token or a demand for more
// scope. The editor then re-resolves the server definition, which is where the sign-in happens; until then the view
// counts the server as needing the person.
import { Emitter } from '../core/events';
import type { PendingSignIn } from './serverTreeModel';

export class PendingSignIns {
  /** By canonical server URL: the scopes to ask for, or undefined for "the same as before". */
  private readonly pending = new Map<string, readonly string[] | undefined>();
  private readonly changes = new Emitter<string>();
  /** Fires with the server URL whenever a sign-in becomes pending or stops being so. */
  readonly onDidChange = this.changes.event;

  record(serverUrl: string, scopes: readonly string[] | undefined): void {
    const isNew = !this.pending.has(serverUrl) || this.pending.get(serverUrl) !== scopes;
    this.pending.set(serverUrl, scopes);
    if (isNew) this.changes.fire(serverUrl);
  }

  /** Whether one is pending, and its scopes, without taking it. */
  peek(serverUrl: string): PendingSignIn | undefined {
    return this.pending.has(serverUrl) ? { scopes: this.pending.get(serverUrl) } : undefined;
  }

  /** Whether one is pending, and its scopes; it is forgotten once taken. */
  take(serverUrl: string): PendingSignIn | undefined {
    const pending = this.peek(serverUrl);
    if (pending) this.forget(serverUrl);
    return pending;
  }

  /** A sign-in happened some other way (the view, another extension): nothing is pending any more. */
  forget(serverUrl: string): void {
    if (this.pending.delete(serverUrl)) this.changes.fire(serverUrl);
  }

  dispose(): void {
    this.changes.dispose();
  }
}
