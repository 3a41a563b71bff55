// Sign-ins the relay found necessary but could not run (it never prompts): a refused token or a demand for more
// scope. The editor then re-resolves the server definition, which is where the sign-in happens.

export class PendingSignIns {
  /** By canonical server URL: the scopes to ask for, or undefined for "the same as before". */
  private readonly pending = new Map<string, readonly string[] | undefined>();

  record(serverUrl: string, scopes: readonly string[] | undefined): void {
    this.pending.set(serverUrl, scopes);
  }

  /** Whether one is pending, and its scopes; it is forgotten once taken. */
  take(serverUrl: string): { readonly scopes: readonly string[] | undefined } | undefined {
    if (!this.pending.has(serverUrl)) return undefined;
    const scopes = this.pending.get(serverUrl);
    this.pending.delete(serverUrl);
    return { scopes };
  }
}
