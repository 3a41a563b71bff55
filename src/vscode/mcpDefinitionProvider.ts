// MCP server definitions for the editor's chat and agents: one per configured server, pointing at the local
// authorizing relay so that token refreshes never change a definition (which would restart the connection) and the
// editor never sees a 401 (which would start its own sign-in).
import * as vscode from 'vscode';
import { isSignInRequired } from '../core/errors';
import type { Keyring } from '../core/keyring';
import type { Logger } from '../core/ports';
import type { AuthorizingRelay } from '../node/authorizingRelay';
import { displayName } from './serverEntry';
import type { ServerRegistry } from './serverRegistry';
import type { SignInService } from './signInService';
import type { StaticCredentials } from './serverSecrets';
import type { PendingSignIns } from './pendingSignIns';

export class KeyringMcpDefinitionProvider implements vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    /** Starts the relay on first use and hands the same one out after. */
    private readonly relay: () => Promise<AuthorizingRelay>,
    private readonly registry: ServerRegistry,
    private readonly keyring: Keyring,
    private readonly signIns: SignInService,
    private readonly staticCredentials: StaticCredentials,
    private readonly pendingSignIns: PendingSignIns,
    private readonly logger: Logger,
  ) {
    // Only the list of servers changes definitions; credentials never do (the relay attaches them).
    this.subscription = registry.onDidChange(() => this.changed.fire());
  }

  /** Silent and cheap: no network, no prompts (the first call starts the loopback relay). */
  async provideMcpServerDefinitions(): Promise<vscode.McpHttpServerDefinition[]> {
    const servers = this.registry.list();
    if (servers.length === 0) return [];
    const relay = await this.relay();
    return servers.map((server) => new vscode.McpHttpServerDefinition(
      displayName(server.entry),
      vscode.Uri.parse(relay.urlFor(server.routeId)),
      { [relay.keyHeader]: relay.key },
    ));
  }

  /** Where prompts belong: make sure a credential exists before the editor connects. */
  async resolveMcpServerDefinition(definition: vscode.McpHttpServerDefinition): Promise<vscode.McpHttpServerDefinition | undefined> {
    const routeId = definition.uri.path.split('/')[1];
    const server = this.registry.list().find((candidate) => candidate.routeId === routeId);
    if (!server) return definition;
    if (server.entry.staticCredential && server.entry.staticCredential !== 'none') {
      return (await this.staticCredentials.get(server.canonicalUrl)) ? definition : undefined;
    }
    // The relay answered 404 because the server refused our token or wants more scope: sign in now.
    const pending = this.pendingSignIns.take(server.canonicalUrl);
    if (!pending) {
      try {
        await this.keyring.getAccessToken(server.canonicalUrl, { interactive: false });
        return definition;
      } catch (error) {
        if (!isSignInRequired(error)) throw error;
      }
      const probe = await this.keyring.probe(server.canonicalUrl).catch(() => undefined);
      if (probe && !probe.requiresAuthorization) return definition;
    }
    this.logger.info(`[resolve] ${server.canonicalUrl} needs a sign-in before the editor connects`);
    try {
      await this.signIns.signIn(server, pending?.scopes);
      return definition;
    } catch (error) {
      if (error instanceof vscode.CancellationError) return undefined;
      throw error;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
