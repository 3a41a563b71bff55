// A minimal typed event, so the engine can announce changes without depending on any editor's event system.

export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (event: T) => void;

/** Adapters wrap this in their own event type (a vscode.EventEmitter, say); the engine only needs to fire. */
export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  /** Subscribes; the returned disposable unsubscribes. */
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  /** A throwing listener must not stop the others, nor the engine flow that fired. */
  fire(event: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // Listeners own their errors; the engine's flow continues.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/**
 * `purged`: everything kept for the server, its secrets too, is deleted (the editor's settings entry left or changed).
 * `preferredChanged`: the server's preferred account is now another one (Switch Account).
 */
export type CredentialChangeKind = 'signedIn' | 'refreshed' | 'needsSignIn' | 'signedOut' | 'purged' | 'preferredChanged';

export interface CredentialChange {
  readonly serverUrl: string;
  /** The account whose credential changed (its id, as in `CredentialStatus.accountId`); absent when unknown. */
  readonly accountId?: string;
  readonly kind: CredentialChangeKind;
}
