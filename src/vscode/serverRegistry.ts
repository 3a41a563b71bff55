// The configured servers (`mcpKeyring.servers`): read with workspace trust and the person's confirmation in mind
// (workspaceServers.ts), written to user settings, and announced when they change. Each server gets a stable route id
// for the relay and the MCP definition.
import * as vscode from 'vscode';
import type { Logger } from '../core/ports';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import { Settings } from './ids';
import { tryCanonical, type ConfiguredServer } from './configuredServer';
import { parseServerEntry, type ServerEntry } from './serverEntry';
import type { WorkspaceServerConsent } from './workspaceServerConsent';
import { effectiveServers, type EffectiveServers } from './workspaceServers';

export class ServerRegistry implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /**
   * The servers as last read: the relay looks its route up on every request it forwards, so parsing, canonicalising
   * and hashing every entry is done once per change of what they depend on, not per request.
   */
  private cached: EffectiveServers | undefined;
  /** The startup review, run just after activation: activation itself reads no server (issue #15). */
  private readonly startupReview: ReturnType<typeof setTimeout>;

  constructor(
    private readonly logger: Logger,
    private readonly consent: WorkspaceServerConsent,
  ) {
    /** What the servers depend on changed: read them afresh, `review` them when the person may have to act. */
    const reread = ({ review, fire }: { readonly review: boolean; readonly fire: boolean }) => {
      this.cached = undefined;
      if (review) this.review();
      if (fire) this.changed.fire();
    };
    this.subscriptions.push(
      consent.onDidConfirm(() => reread({ review: false, fire: true })),
      vscode.workspace.onDidChangeConfiguration((event) => {
        const affectsServers = event.affectsConfiguration(`${Settings.section}.${Settings.servers}`);
        if (affectsServers || event.affectsConfiguration(`${Settings.section}.${Settings.clientMetadataUrl}`)) reread({ review: true, fire: affectsServers });
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => reread({ review: true, fire: true })),
    );
    this.startupReview = setTimeout(() => this.review(), 0);
  }

  /**
   * Valid entries, one per canonical URL, the user's first. Untrusted workspaces contribute none; trusted ones
   * contribute without the fields that route secrets until the person has allowed them.
   */
  list(): ConfiguredServer[] {
    return this.effective().servers;
  }

  /** The client ID metadata document URL, by the same rules as the servers. */
  clientMetadataUrl(): string | undefined {
    return this.effective().clientMetadataUrl;
  }

  /** Valid entries of the user settings alone, whatever the workspace and its trust. */
  userServers(): ConfiguredServer[] {
    return this.effective().user;
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
    clearTimeout(this.startupReview);
    this.changed.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  /**
   * Just after activation and when the settings or the workspace's trust change (never from a read, which any background request
   * makes): says what is ignored, and offers the person the workspace's secret routing to allow.
   */
  private review(): void {
    const effective = this.effective();
    if (effective.invalid > 0) this.logger.warn(`[settings] ignored ${effective.invalid} mcpKeyring.servers entries that are not valid servers (each needs an http(s) url)`);
    if (effective.unconfirmedRouting) this.consent.offer(effective.unconfirmedRouting);
  }

  private effective(): EffectiveServers {
    this.cached ??= this.read();
    return this.cached;
  }

  private read(): EffectiveServers {
    const configuration = vscode.workspace.getConfiguration(Settings.section);
    const servers = configuration.inspect<unknown[]>(Settings.servers);
    const metadataUrl = configuration.inspect<string>(Settings.clientMetadataUrl);
    return effectiveServers({
      user: servers?.globalValue ?? [],
      workspace: [...(servers?.workspaceFolderValue ?? []), ...(servers?.workspaceValue ?? [])],
      userClientMetadataUrl: metadataUrl?.globalValue,
      workspaceClientMetadataUrl: metadataUrl?.workspaceFolderValue ?? metadataUrl?.workspaceValue,
      isTrusted: vscode.workspace.isTrusted,
      confirmedRouting: this.consent.confirmed(),
    });
  }

  private userEntries(): ServerEntry[] {
    const inspected = vscode.workspace.getConfiguration(Settings.section).inspect<unknown[]>(Settings.servers);
    return (inspected?.globalValue ?? []).map(parseServerEntry).filter((entry): entry is ServerEntry => entry !== undefined);
  }

  private async writeUserEntries(entries: ServerEntry[]): Promise<void> {
    await vscode.workspace.getConfiguration(Settings.section).update(Settings.servers, entries, vscode.ConfigurationTarget.Global);
  }
}

