// The MCP Keyring view: one item per configured server with its state, counting down live while visible.
// Server-supplied text only ever appears as plain text (no markdown, no links).
import * as vscode from 'vscode';
import { redactUrl } from '../core/redact';
import type { CredentialChange } from '../core/events';
import type { CredentialStatus, Keyring } from '../core/keyring';
import { TreeItemContext } from './ids';
import type { ServerActivity } from './serverActivity';
import { displayName } from './serverEntry';
import type { ConfiguredServer } from './configuredServer';
import type { ServerRegistry } from './serverRegistry';
import type { StaticCredentials } from './serverSecrets';

const COUNTDOWN_INTERVAL_MS = 1_000;

export class ServerTreeProvider implements vscode.TreeDataProvider<ConfiguredServer>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ConfiguredServer | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly registry: ServerRegistry,
    private readonly keyring: Keyring,
    private readonly activity: ServerActivity,
    private readonly staticCredentials: StaticCredentials,
    onDidChangeCredentials: vscode.Event<CredentialChange>,
    private readonly now: () => number = Date.now,
  ) {
    const refresh = () => this.changed.fire(undefined);
    this.subscriptions.push(registry.onDidChange(refresh), activity.onDidChange(refresh), onDidChangeCredentials(refresh));
  }

  /** Ticks once a second while the view is visible, so the expiry countdown is live; stops when hidden. */
  setVisible(isVisible: boolean): void {
    if (isVisible && !this.countdown) this.countdown = setInterval(() => this.changed.fire(undefined), COUNTDOWN_INTERVAL_MS);
    if (!isVisible) this.stopCountdown();
  }

  getChildren(element?: ConfiguredServer): ConfiguredServer[] {
    return element ? [] : this.registry.list();
  }

  async getTreeItem(server: ConfiguredServer): Promise<vscode.TreeItem> {
    const item = new vscode.TreeItem(displayName(server.entry), vscode.TreeItemCollapsibleState.None);
    item.id = server.routeId;
    if (server.entry.staticCredential && server.entry.staticCredential !== 'none') {
      const hasCredential = Boolean(await this.staticCredentials.get(server.canonicalUrl));
      item.description = hasCredential ? vscode.l10n.t('Static credential stored') : vscode.l10n.t('No credential entered');
      item.contextValue = TreeItemContext.staticCredential;
      item.iconPath = new vscode.ThemeIcon(hasCredential ? 'key' : 'circle-slash');
      item.tooltip = redactUrl(server.canonicalUrl);
      return item;
    }
    const status = (await this.keyring.status(server.canonicalUrl).catch(() => []))[0];
    const state = describeState(status, this.activity.current(server.canonicalUrl), this.activity.lastError(server.canonicalUrl), this.now());
    item.description = state.text;
    item.iconPath = new vscode.ThemeIcon(state.icon);
    item.contextValue = state.context;
    item.tooltip = tooltip(server, status);
    return item;
  }

  dispose(): void {
    this.stopCountdown();
    this.changed.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private stopCountdown(): void {
    if (this.countdown) clearInterval(this.countdown);
    this.countdown = undefined;
  }
}

interface ItemState {
  readonly text: string;
  readonly icon: string;
  readonly context: string;
}

export function describeState(status: CredentialStatus | undefined, activity: string | undefined, lastError: string | undefined, now: number): ItemState {
  if (activity === 'signingIn') return { text: vscode.l10n.t('Signing in…'), icon: 'loading~spin', context: TreeItemContext.signedOut };
  if (activity === 'refreshing') return { text: vscode.l10n.t('Refreshing…'), icon: 'sync~spin', context: TreeItemContext.signedIn };
  if (status?.needsSignIn) return { text: vscode.l10n.t('Needs sign-in'), icon: 'warning', context: TreeItemContext.needsSignIn };
  if (lastError && !status) return { text: vscode.l10n.t('Error: {0}', lastError), icon: 'error', context: TreeItemContext.signedOut };
  if (!status) return { text: vscode.l10n.t('Not signed in'), icon: 'circle-outline', context: TreeItemContext.signedOut };
  const expiry = status.expiresAt === undefined ? '' : ` · ${vscode.l10n.t('expires in {0}', formatRemaining(status.expiresAt - now))}`;
  const error = lastError ? ` · ${vscode.l10n.t('Error: {0}', lastError)}` : '';
  return { text: `${vscode.l10n.t('Signed in as {0}', status.account)}${expiry}${error}`, icon: 'pass', context: TreeItemContext.signedIn };
}

/** mm:ss below an hour, h:mm:ss above; "expired" once past. */
export function formatRemaining(milliseconds: number): string {
  if (milliseconds <= 0) return vscode.l10n.t('expired');
  const total = Math.floor(milliseconds / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mmss = `${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

function tooltip(server: ConfiguredServer, status: CredentialStatus | undefined): string {
  const lines = [redactUrl(server.canonicalUrl)];
  if (status) {
    lines.push(
      vscode.l10n.t('Authorization server: {0}', status.issuer),
      vscode.l10n.t('Client: {0}', clientKind(status.clientOrigin)),
      vscode.l10n.t('Scopes: {0}', status.scopes.join(' ') || '—'),
    );
    if (status.lastRefresh) lines.push(vscode.l10n.t('Last refresh: {0} at {1}', status.lastRefresh.outcome, new Date(status.lastRefresh.at).toLocaleTimeString()));
  }
  lines.push(vscode.l10n.t('Redirect: {0}', server.entry.redirect ?? 'auto'));
  return lines.join('\n');
}

function clientKind(origin: CredentialStatus['clientOrigin']): string {
  switch (origin) {
    case 'pre-registered':
      return vscode.l10n.t('pre-registered');
    case 'metadata-document':
      return vscode.l10n.t('metadata document');
    case 'dynamic-registration':
      return vscode.l10n.t('registered');
    default:
      return vscode.l10n.t('unknown');
  }
}
