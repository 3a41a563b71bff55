// Which servers need the person (a sign-in, a step-up, a refresh that keeps failing), kept current from stored
// state and shown as a badge on the view and a status bar item that exists only while something needs them. Its
// click runs what fixes it: the sign-in or the refresh of the one server, or the view when there are several.
import * as vscode from 'vscode';
import type { CredentialStatus, Keyring } from '../core/keyring';
import type { Logger } from '../core/ports';
import { shortErrorCode } from '../core/errors';
import type { ConfiguredServer } from './configuredServer';
import { Commands, SERVERS_VIEW_ID } from './ids';
import type { PendingSignIns } from './pendingSignIns';
import { displayName } from './serverEntry';
import type { ServerRegistry } from './serverRegistry';
import { attentionText } from './serverTree';
import { plainLine } from './plainText';
import { attentionOf, type Attention } from './serverTreeModel';

export interface ServerAttentionDeps {
  readonly registry: ServerRegistry;
  readonly keyring: Keyring;
  readonly pendingSignIns: PendingSignIns;
  readonly logger: Logger;
}

/** Where the count is shown: the view's badge. */
export interface BadgeHolder {
  badge?: vscode.ViewBadge;
}

export class ServerAttention implements vscode.Disposable {
  private attentions = new Map<string, Attention>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly statusBarItem: vscode.StatusBarItem;
  private readonly badges: BadgeHolder[] = [];
  /** Updates run one after another, so an older read never overwrites a newer one. */
  private updating: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ServerAttentionDeps) {
    this.statusBarItem = vscode.window.createStatusBarItem('mcpKeyring.attention', vscode.StatusBarAlignment.Left);
    this.statusBarItem.name = vscode.l10n.t('MCP Keyring: servers that need you');
  }

  attentionOf(server: ConfiguredServer): Attention | undefined {
    return this.attentions.get(server.canonicalUrl);
  }

  /** Shows the count on this view's badge from now on. */
  showBadgeOn(holder: BadgeHolder): void {
    this.badges.push(holder);
    this.render();
  }

  /** Reads stored state again (no network) and updates the badge and the status bar; resolves when done. */
  update(): Promise<void> {
    this.updating = this.updating.then(() => this.read()).catch((error: unknown) => {
      this.deps.logger.warn(`[attention] could not read the stored credentials (${shortErrorCode(error)})`);
    });
    return this.updating;
  }

  dispose(): void {
    this.statusBarItem.dispose();
    this.changed.dispose();
  }

  private async read(): Promise<void> {
    const statuses = await this.deps.keyring.status();
    const byServer = new Map<string, CredentialStatus[]>();
    for (const status of statuses) byServer.set(status.serverUrl, [...(byServer.get(status.serverUrl) ?? []), status]);
    const next = new Map<string, Attention>();
    for (const server of this.deps.registry.list()) {
      const attention = attentionOf(byServer.get(server.canonicalUrl) ?? [], this.deps.pendingSignIns.peek(server.canonicalUrl));
      if (attention) next.set(server.canonicalUrl, attention);
    }
    const isSame = next.size === this.attentions.size && [...next].every(([url, attention]) => this.attentions.get(url) === attention);
    this.attentions = next;
    if (isSame) return;
    this.render();
    this.changed.fire();
  }

  private render(): void {
    // While no server needs the person there is nothing to list: the first render, at activation, reads no server
    // (issue #15).
    const needing = this.attentions.size === 0 ? [] : this.deps.registry.list().filter((server) => this.attentions.has(server.canonicalUrl));
    const badge = needing.length === 0 ? undefined : { value: needing.length, tooltip: badgeTooltip(needing.length) };
    for (const holder of this.badges) holder.badge = badge;
    if (needing.length === 0) {
      this.statusBarItem.hide();
      return;
    }
    const only = needing.length === 1 ? needing[0] : undefined;
    const attention = only && this.attentions.get(only.canonicalUrl);
    if (only && attention) {
      const name = statusBarSafe(displayName(only.entry));
      this.statusBarItem.text = `$(warning) ${attention === 'refreshFailing' ? vscode.l10n.t('{0}: refresh failing', name) : vscode.l10n.t('Sign in to {0}', name)}`;
      this.statusBarItem.tooltip = `${displayName(only.entry)}\n${attentionText(attention)}`;
      this.statusBarItem.command = {
        title: attention === 'refreshFailing' ? vscode.l10n.t('Refresh Now') : vscode.l10n.t('Sign In'),
        command: attention === 'refreshFailing' ? Commands.refreshNow : Commands.signIn,
        arguments: [only],
      };
    } else {
      this.statusBarItem.text = `$(warning) ${vscode.l10n.t('{0} MCP servers need you', needing.length)}`;
      this.statusBarItem.tooltip = needing.map((server) => `${displayName(server.entry)}: ${attentionText(this.attentions.get(server.canonicalUrl)!)}`).join('\n');
      this.statusBarItem.command = { title: vscode.l10n.t('Show MCP Keyring'), command: `${SERVERS_VIEW_ID}.focus` };
    }
    this.statusBarItem.show();
  }
}

function badgeTooltip(count: number): string {
  return count === 1 ? vscode.l10n.t('1 MCP server needs you') : vscode.l10n.t('{0} MCP servers need you', count);
}

/** A label from the settings in status bar text, where `$(name)` would draw an icon. */
function statusBarSafe(text: string): string {
  return plainLine(text).replace(/\$\(/g, '$\u200b(');
}
