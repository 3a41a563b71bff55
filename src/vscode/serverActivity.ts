// What the extension is doing for each server right now (signing in, refreshing) and the last error, so the tree
// can say so while the engine works.
import * as vscode from 'vscode';
import { isKeyringError } from '../core/errors';

export type Activity = 'signingIn' | 'refreshing';

export class ServerActivity implements vscode.Disposable {
  private readonly activities = new Map<string, Activity>();
  private readonly errors = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  current(serverUrl: string): Activity | undefined {
    return this.activities.get(serverUrl);
  }

  /** A short reason (an error code, never server-supplied text) from the last failed activity. */
  lastError(serverUrl: string): string | undefined {
    return this.errors.get(serverUrl);
  }

  async run<T>(serverUrl: string, activity: Activity, work: () => Promise<T>): Promise<T> {
    this.activities.set(serverUrl, activity);
    this.changed.fire();
    try {
      const result = await work();
      this.errors.delete(serverUrl);
      return result;
    } catch (error) {
      if (!(error instanceof vscode.CancellationError)) this.errors.set(serverUrl, isKeyringError(error) ? error.code : 'failed');
      throw error;
    } finally {
      this.activities.delete(serverUrl);
      this.changed.fire();
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
