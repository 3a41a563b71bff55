// The MCP Keyring view: each configured server with its state, expanding to its accounts, each account to what is
// stored about it (authorization server, scopes, client, token kind, last and next refresh); the expiry counts down
// live while visible. Everything comes from stored state, so opening the view reaches no server. Server-supplied
// text only ever appears as plain text: labels, descriptions and plain-string hovers (no markdown, no links).
import * as vscode from 'vscode';
import type { CredentialChange } from '../core/events';
import { redactUrl } from '../core/redact';
import type { CredentialStatus, Keyring } from '../core/keyring';
import { Settings, TreeItemContext } from './ids';
import type { ServerActivity } from './serverActivity';
import { displayName } from './serverEntry';
import type { ConfiguredServer } from './configuredServer';
import type { ServerRegistry } from './serverRegistry';
import type { StaticCredentials } from './serverSecrets';
import { plainLine } from './plainText';
import { providerOfClientId } from './editorAccountProviders';
import { editorAccountName } from './editorAccounts';
import type { ServerAccount } from './serverAccounts';
import { accountFacts, type AccountFacts, type Attention } from './serverTreeModel';

const COUNTDOWN_INTERVAL_MS = 1_000;

/**
 * An account signed in to a server (one per stored credential). It is a ServerAccount too (server and status), which
 * the account commands (Switch Account, Sign Out, Refresh Now, Copy Access Token) take from the item.
 */
export interface AccountNode extends ServerAccount {
  readonly kind: 'account';
  readonly facts: AccountFacts;
}

/** One line of what is stored about an account. */
export interface FactNode {
  readonly kind: 'fact';
  readonly id: string;
  readonly fact: Fact;
}

/** Servers are the registry's own objects, so the commands on a server row receive the server. */
export type ViewNode = ConfiguredServer | AccountNode | FactNode;

export interface ServerTreeSources {
  readonly registry: ServerRegistry;
  readonly keyring: Keyring;
  readonly activity: ServerActivity;
  readonly staticCredentials: StaticCredentials;
  readonly onDidChangeCredentials: vscode.Event<CredentialChange>;
  /** Whether a server needs the person, and why (see ServerAttention). */
  readonly attentionOf: (server: ConfiguredServer) => Attention | undefined;
  readonly onDidChangeAttention: vscode.Event<void>;
  readonly now?: () => number;
}

export class ServerTreeProvider implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ViewNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private countdown: ReturnType<typeof setInterval> | undefined;
  /** The countdown texts drawn last, to redraw only when one changes. */
  private lastCountdown = '';
  /**
   * The stored state the countdown reads, kept until something changes (a credential, in any window, or the servers):
   * the countdown's ticks then only redo the arithmetic, with no store read each second.
   */
  private countdownStatuses: Promise<CredentialStatus[]> | undefined;
  private readonly now: () => number;

  constructor(private readonly sources: ServerTreeSources) {
    this.now = sources.now ?? Date.now;
    const refresh = () => {
      this.countdownStatuses = undefined;
      this.changed.fire(undefined);
    };
    this.subscriptions.push(
      sources.registry.onDidChange(refresh),
      sources.activity.onDidChange(refresh),
      sources.onDidChangeCredentials(refresh),
      sources.onDidChangeAttention(refresh),
    );
  }

  /**
   * Looks once a second while the view is visible whether a countdown's text changed, and only then redraws: a
   * redraw closes an open hover. Stops when hidden.
   */
  setVisible(isVisible: boolean): void {
    if (isVisible && !this.countdown) this.countdown = setInterval(() => void this.redrawIfCountdownChanged(), COUNTDOWN_INTERVAL_MS);
    if (!isVisible) this.stopCountdown();
  }

  private async redrawIfCountdownChanged(): Promise<void> {
    const now = this.now();
    this.countdownStatuses ??= this.sources.keyring.status();
    const statuses = await this.countdownStatuses.catch(() => {
      // Read again on the next tick rather than count down nothing until the next change.
      this.countdownStatuses = undefined;
      return [];
    });
    const shown = statuses.map((status) => {
      const facts = accountFacts(status, refreshLeadMs());
      return [status.serverUrl, expiryText(facts.expiresAt, now), nextRefreshText(facts, now)].join(' ');
    }).join('\n');
    if (shown === this.lastCountdown) return;
    this.lastCountdown = shown;
    this.changed.fire(undefined);
  }

  async getChildren(element?: ViewNode): Promise<ViewNode[]> {
    if (!element) return this.sources.registry.list();
    if (!('kind' in element)) return (await this.statuses(element)).map((status) => ({ kind: 'account', server: element, status, facts: accountFacts(status, refreshLeadMs()) }));
    if (element.kind === 'account') return factsOf(element.facts, this.now()).map((fact) => ({ kind: 'fact', id: `${accountId(element)}/${fact.key}`, fact }));
    return [];
  }

  async getTreeItem(element: ViewNode): Promise<vscode.TreeItem> {
    if (!('kind' in element)) return this.serverItem(element);
    return element.kind === 'account' ? accountItem(element, this.now()) : factItem(element);
  }

  dispose(): void {
    this.stopCountdown();
    this.changed.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private async serverItem(server: ConfiguredServer): Promise<vscode.TreeItem> {
    const item = new vscode.TreeItem(displayName(server.entry), vscode.TreeItemCollapsibleState.None);
    item.id = server.routeId;
    if (server.entry.staticCredential && server.entry.staticCredential !== 'none') {
      const hasCredential = Boolean(await this.sources.staticCredentials.get(server.canonicalUrl));
      item.description = hasCredential ? vscode.l10n.t('Static credential stored') : vscode.l10n.t('No credential entered');
      item.contextValue = TreeItemContext.staticCredential;
      item.iconPath = new vscode.ThemeIcon(hasCredential ? 'key' : 'circle-slash');
      item.tooltip = redactUrl(server.canonicalUrl);
      return item;
    }
    const statuses = await this.statuses(server);
    const { activity } = this.sources;
    const attention = this.sources.attentionOf(server);
    const state = describeState(statuses[0], activity.current(server.canonicalUrl), activity.lastError(server.canonicalUrl), attention, this.now());
    item.description = state.text;
    item.iconPath = new vscode.ThemeIcon(state.icon);
    item.contextValue = state.context;
    item.tooltip = serverTooltip(server, statuses, attention);
    if (statuses.length > 0) item.collapsibleState = vscode.TreeItemCollapsibleState.Collapsed;
    return item;
  }

  /** The server's accounts as stored; a store that cannot be read shows none rather than breaking the view. */
  private statuses(server: ConfiguredServer): Promise<CredentialStatus[]> {
    return this.sources.keyring.status(server.canonicalUrl).catch(() => []);
  }

  private stopCountdown(): void {
    if (this.countdown) clearInterval(this.countdown);
    this.countdown = undefined;
  }
}

function refreshLeadMs(): number {
  return vscode.workspace.getConfiguration(Settings.section).get(Settings.refreshBeforeExpirySeconds, 60) * 1000;
}

function accountId(node: AccountNode): string {
  return `${node.server.routeId}/${node.status.accountId}`;
}

/** An account's row: its label, its expiry or that it needs sign-in, and a hover with everything stored about it. */
export function accountItem(node: AccountNode, now: number): vscode.TreeItem {
  const { facts } = node;
  const item = new vscode.TreeItem(plainLine(facts.account), vscode.TreeItemCollapsibleState.Collapsed);
  item.id = accountId(node);
  item.contextValue = facts.needsSignIn ? TreeItemContext.accountNeedsSignIn : node.status.isPreferred ? TreeItemContext.preferredAccount : TreeItemContext.otherAccount;
  item.iconPath = new vscode.ThemeIcon(facts.needsSignIn ? 'warning' : 'account');
  item.description = facts.needsSignIn ? vscode.l10n.t('Needs sign-in') : expiryText(facts.expiresAt, now);
  item.tooltip = [vscode.l10n.t('Account: {0}', plainLine(facts.account)), ...factsOf(facts, now).map((fact) => `${fact.label}: ${fact.value}`)].join('\n');
  return item;
}

function factItem(node: FactNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.fact.label, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = node.fact.value;
  item.tooltip = `${node.fact.label}: ${node.fact.value}`;
  item.iconPath = new vscode.ThemeIcon(node.fact.icon);
  return item;
}

interface ItemState {
  readonly text: string;
  readonly icon: string;
  readonly context: string;
}

export function describeState(status: CredentialStatus | undefined, activity: string | undefined, lastError: string | undefined, attention: Attention | undefined, now: number): ItemState {
  if (activity === 'signingIn') return { text: vscode.l10n.t('Signing in…'), icon: 'loading~spin', context: TreeItemContext.signedOut };
  if (activity === 'refreshing') return { text: vscode.l10n.t('Refreshing…'), icon: 'sync~spin', context: TreeItemContext.signedIn };
  if (status?.needsSignIn) return { text: vscode.l10n.t('Needs sign-in'), icon: 'warning', context: TreeItemContext.needsSignIn };
  if (attention === 'stepUp') return { text: vscode.l10n.t('Needs sign-in for more access'), icon: 'warning', context: TreeItemContext.needsSignIn };
  if (attention === 'signIn') return { text: vscode.l10n.t('Needs sign-in'), icon: 'warning', context: status ? TreeItemContext.needsSignIn : TreeItemContext.signedOut };
  if (lastError && !status) return { text: vscode.l10n.t('Error: {0}', lastError), icon: 'error', context: TreeItemContext.signedOut };
  if (!status) return { text: vscode.l10n.t('Not signed in'), icon: 'circle-outline', context: TreeItemContext.signedOut };
  const expiry = status.expiresAt === undefined ? '' : ` · ${expiryText(status.expiresAt, now)}`;
  const error = lastError ? ` · ${vscode.l10n.t('Error: {0}', lastError)}` : '';
  const failing = attention === 'refreshFailing' ? ` · ${vscode.l10n.t('refresh failing')}` : '';
  const icon = attention === 'refreshFailing' ? 'warning' : 'pass';
  return { text: `${vscode.l10n.t('Signed in as {0}', plainLine(status.account))}${expiry}${failing}${error}`, icon, context: TreeItemContext.signedIn };
}

function expiryText(expiresAt: number | undefined, now: number): string {
  return expiresAt === undefined ? vscode.l10n.t('no expiry') : vscode.l10n.t('expires in {0}', formatRemaining(expiresAt - now));
}

/**
 * Whole minutes ("< 1 min" in the last one): a row is redrawn only when its text changes, and each redraw closes the
 * hover the person may be reading, so a countdown in seconds would keep every hover of the view shut.
 */
export function formatRemaining(milliseconds: number): string {
  if (milliseconds <= 0) return vscode.l10n.t('expired');
  const totalMinutes = Math.floor(milliseconds / 60_000);
  if (totalMinutes === 0) return vscode.l10n.t('< 1 min');
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return hours > 0 ? vscode.l10n.t('{0} h {1} min', hours, minutes) : vscode.l10n.t('{0} min', minutes);
}

/** One fact about an account, worded: the row under the account and a line of its hover. */
interface Fact {
  readonly key: 'authorizationServer' | 'scopes' | 'client' | 'token' | 'lastRefresh' | 'nextRefresh';
  readonly label: string;
  readonly value: string;
  readonly icon: string;
}

function factsOf(facts: AccountFacts, now: number): Fact[] {
  // An account lent by the editor's GitHub or Microsoft provider: that provider issued and renews its tokens.
  const editorProvider = providerOfClientId(facts.clientId);
  return [
    { key: 'authorizationServer', label: vscode.l10n.t('Authorization server'), value: plainLine(facts.authorizationServer), icon: 'server' },
    { key: 'scopes', label: vscode.l10n.t('Granted scopes'), value: facts.scopes.length > 0 ? plainLine(facts.scopes.join(' ')) : vscode.l10n.t('none named'), icon: 'checklist' },
    { key: 'client', label: vscode.l10n.t('Client'), value: editorProvider ? editorAccountName(editorProvider) : `${clientKind(facts.clientOrigin)} · ${plainLine(facts.clientId)}`, icon: 'key' },
    { key: 'token', label: vscode.l10n.t('Token'), value: facts.tokenKind === 'DPoP' ? vscode.l10n.t('DPoP (bound to a key kept here)') : vscode.l10n.t('Bearer'), icon: 'shield' },
    { key: 'lastRefresh', label: vscode.l10n.t('Last refresh'), value: lastRefreshText(facts, now), icon: 'history' },
    { key: 'nextRefresh', label: vscode.l10n.t('Next refresh'), value: editorProvider ? vscode.l10n.t('by {0}, when the token is due or refused', editorAccountName(editorProvider)) : nextRefreshText(facts, now), icon: 'clock' },
  ];
}

function lastRefreshText(facts: AccountFacts, now: number): string {
  const last = facts.lastRefresh;
  if (!last) return facts.signedInAt === undefined ? vscode.l10n.t('none yet') : vscode.l10n.t('none yet (signed in {0})', when(facts.signedInAt, now));
  const reason = last.code ? plainLine(last.code) : vscode.l10n.t('no reason given');
  switch (last.outcome) {
    case 'ok':
      return vscode.l10n.t('succeeded {0}', when(last.at, now));
    case 'retrying':
      return vscode.l10n.t('failed {0} ({1}); the token is kept and the refresh retried', when(last.at, now), reason);
    case 'rejected':
      return vscode.l10n.t('refused {0} ({1}); sign in again', when(last.at, now), reason);
  }
}

function nextRefreshText(facts: AccountFacts, now: number): string {
  const next = facts.nextRefresh;
  if (next.kind === 'at') return next.at <= now ? vscode.l10n.t('due now') : vscode.l10n.t('in {0} ({1})', formatRemaining(next.at - now), when(next.at, now));
  switch (next.why) {
    case 'needsSignIn':
      return vscode.l10n.t('none: sign in again');
    case 'noRefreshToken':
      return vscode.l10n.t('none: no refresh token was issued');
    case 'noExpiry':
      return vscode.l10n.t('none: the token does not expire');
  }
}

/** The time of day for today, the date and time otherwise. */
function when(at: number, now: number): string {
  const date = new Date(at);
  return date.toDateString() === new Date(now).toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

function serverTooltip(server: ConfiguredServer, statuses: readonly CredentialStatus[], attention: Attention | undefined): string {
  const lines = [redactUrl(server.canonicalUrl)];
  if (attention) lines.push(attentionText(attention));
  lines.push(statuses.length === 0 ? vscode.l10n.t('No account signed in') : vscode.l10n.t('Accounts: {0}', statuses.map((status) => plainLine(status.account)).join(', ')));
  lines.push(vscode.l10n.t('Redirect: {0}', server.entry.redirect ?? 'auto'));
  return lines.join('\n');
}

/** What the person is asked to do, for a hover and the status bar. */
export function attentionText(attention: Attention): string {
  switch (attention) {
    case 'signIn':
      return vscode.l10n.t('Needs a sign-in: the server refused the stored credential, or none is stored.');
    case 'stepUp':
      return vscode.l10n.t('Needs a sign-in: a tool asked for more access than was granted.');
    case 'refreshFailing':
      return vscode.l10n.t('Refreshing the token keeps failing; the current token is used until it expires.');
  }
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
