// The configured servers (`mcpKeyring.servers`): read with workspace trust in mind, written to user settings, and
// announced when they change. Each server gets a stable route id for the relay and the MCP definition.
import * as vscode from 'vscode';
import type { Logger } from '../core/ports';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import { Settings } from './ids';
import { toConfiguredServer, tryCanonical, type ConfiguredServer } from './configuredServer';
import { parseServerEntry, type ServerEntry } from './serverEntry';

export class ServerRegistry implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly logger: Logger) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${Settings.section}.${Settings.servers}`)) this.changed.fire();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    );
  }

  /** Valid entries, one per canonical URL. Untrusted workspaces contribute none: only user settings count there. */
  list(): ConfiguredServer[] {
    const inspected = vscode.workspace.getConfiguration(Settings.section).inspect<unknown[]>(Settings.servers);
    const raw = vscode.workspace.isTrusted
      ? [...(inspected?.workspaceFolderValue ?? []), ...(inspected?.workspaceValue ?? []), ...(inspected?.globalValue ?? [])]
      : [...(inspected?.globalValue ?? [])];
    const servers = new Map<string, ConfiguredServer>();
    for (const value of raw) {
      const server = toConfiguredServer(value);
      if (!server) {
        this.logger.warn('[settings] ignored an mcpKeyring.servers entry that is not a valid server (it needs an http(s) url)');
        continue;
      }
      if (!servers.has(server.canonicalUrl)) servers.set(server.canonicalUrl, server);
    }
    return [...servers.values()];
  }

  /** Valid entries of the user settings alone, whatever the workspace and its trust. */
  userServers(): ConfiguredServer[] {
    return this.userEntries().map(toConfiguredServer).filter((server): server is ConfiguredServer => server !== undefined);
  }

  find(serverUrl: string): ConfiguredServer | undefined {
    const canonical = tryCanonical(serverUrl);
    return this.list().find((server) => server.canonicalUrl === canonical || server.routeId === serverUrl);
  }

  /** Adds or replaces (by canonical URL) an entry in user settings. */
  async put(entry: ServerEntry): Promise<void> {
    const canonical = canonicalServerUrl(parseServerUrl(entry.url));
    const current = this.userEntries().filter((value) => tryCanonical(value.url) !== canonical);
    await this.writeUserEntries([...current, entry]);
  }

  async remove(serverUrl: string): Promise<void> {
    const canonical = tryCanonical(serverUrl);
    await this.writeUserEntries(this.userEntries().filter((value) => tryCanonical(value.url) !== canonical));
  }

  dispose(): void {
    this.changed.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private userEntries(): ServerEntry[] {
    const inspected = vscode.workspace.getConfiguration(Settings.section).inspect<unknown[]>(Settings.servers);
    return (inspected?.globalValue ?? []).map(parseServerEntry).filter((entry): entry is ServerEntry => entry !== undefined);
  }

  private async writeUserEntries(entries: ServerEntry[]): Promise<void> {
    await vscode.workspace.getConfiguration(Settings.section).update(Settings.servers, entries, vscode.ConfigurationTarget.Global);
  }
}

