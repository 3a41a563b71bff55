// The palette and tree commands. Each handler takes the server (or one of its accounts) from the tree item it was
// invoked on, or asks.
import * as vscode from 'vscode';
import { isKeyringError, type MissingConfiguration } from '../core/errors';
import type { CredentialChange } from '../core/events';
import type { CredentialStatus, DiagnoseReport, Keyring } from '../core/keyring';
import type { Logger } from '../core/ports';
import { formatDiagnosis } from '../core/reportText';
import { redactText, redactUrl } from '../core/redact';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import type { ClientSecrets, GrantSecrets, StaticCredentials } from './serverSecrets';
import type { DiagnosisDocuments } from './diagnosisDocuments';
import { Commands } from './ids';
import { mcpJsonLocations, readMcpJsonServers } from './mcpJsonImport';
import type { PendingSignIns } from './pendingSignIns';
import { notificationText } from './plainText';
import type { ServerActivity } from './serverActivity';
import { displayName, type ServerEntry } from './serverEntry';
import type { StaticCredentialKind } from '../core/vocabulary';
import type { ConfiguredServer } from './configuredServer';
import { purgeServer, signOutIfSignedIn } from './serverPurge';
import { providerOfClientId, type EditorProviderId } from './editorAccountProviders';
import { editorAccountName } from './editorAccounts';
import type { ServerRegistry } from './serverRegistry';
import { isServerAccount, listServerAccounts, type ServerAccount } from './serverAccounts';
import type { SignInService } from './signInService';

export interface CommandDeps {
  readonly keyring: Keyring;
  readonly registry: ServerRegistry;
  readonly signIns: SignInService;
  readonly activity: ServerActivity;
  readonly pendingSignIns: PendingSignIns;
  readonly clientSecrets: ClientSecrets;
  readonly grantSecrets: GrantSecrets;
  readonly staticCredentials: StaticCredentials;
  readonly diagnoses: DiagnosisDocuments;
  readonly log: vscode.LogOutputChannel;
  readonly logger: Logger;
  readonly announce: (change: CredentialChange) => void;
  readonly globalStorageUri: vscode.Uri;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const handlers = new KeyringCommands(deps);
  const register = (id: string, handler: (target?: CommandTarget) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, (target?: CommandTarget) => reportFailure(handler(target), deps.logger, id));
  const serverOf = (target?: CommandTarget) => (isServerAccount(target) ? target.server : target);
  return [
    register(Commands.addServer, () => handlers.addServer()),
    register(Commands.signIn, (target) => handlers.signIn(serverOf(target))),
    register(Commands.signInAnotherAccount, (target) => handlers.signInAnotherAccount(serverOf(target))),
    register(Commands.switchAccount, (target) => handlers.switchAccount(target)),
    register(Commands.signOut, (target) => handlers.signOut(target)),
    register(Commands.refreshNow, (target) => handlers.refreshNow(target)),
    register(Commands.diagnose, (target) => handlers.diagnose(serverOf(target))),
    register(Commands.importMcpJson, () => handlers.importMcpJson()),
    register(Commands.resetRegistration, (target) => handlers.resetRegistration(serverOf(target))),
    register(Commands.showLog, () => Promise.resolve(deps.log.show())),
    register(Commands.copyAccessToken, (target) => handlers.copyAccessToken(target)),
    register(Commands.editServer, () => handlers.editServers()),
    register(Commands.removeServer, (target) => handlers.removeServer(serverOf(target))),
  ];
}

/** What a command is invoked on: a server's item, one of its accounts' items, or nothing (the palette: it asks). */
type CommandTarget = ConfiguredServer | ServerAccount;

class KeyringCommands {
  constructor(private readonly deps: CommandDeps) {}

  async addServer(): Promise<void> {
    const url = await vscode.window.showInputBox({
      title: vscode.l10n.t('Add MCP Server'),
      prompt: vscode.l10n.t('The URL of the MCP server (Streamable HTTP endpoint)'),
      placeHolder: 'https://mcp.example.com/mcp',
      ignoreFocusOut: true,
      validateInput: (value) => validateServerUrl(value),
    });
    if (!url) return;
    const findings = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Checking {0}…', url) },
      () => this.deps.keyring.diagnose(url.trim()),
    );
    let entry: ServerEntry = { url: url.trim() };
    // No OAuth challenge (Bearer or DPoP): the server is open, or it wants a key of its own (a bare 401) that OAuth
    // cannot get.
    if (findings.probe && !findings.probe.authorizationChallenge) {
      const staticKind = await this.askStaticCredential();
      if (staticKind === undefined) return;
      entry = await this.withStaticCredential(entry, staticKind);
    }
    if (!entry.staticCredential && findings.probe?.requiresAuthorization !== false) {
      const withClient = await this.askForOAuthGaps(entry, findings);
      if (!withClient) return;
      entry = withClient;
    }
    await this.deps.registry.put(entry);
    const signIn = vscode.l10n.t('Sign In');
    // Only the origin of the server-supplied issuer: notifications render markdown links, and server text must not become one.
    const issuer = findings.discovery ? new URL(findings.discovery.authorizationServer.issuer).origin : undefined;
    const message = issuer
      ? vscode.l10n.t('Added {0}. It is protected by {1}.', displayName(entry), issuer)
      : vscode.l10n.t('Added {0}.', displayName(entry));
    const server = this.deps.registry.find(entry.url);
    if (!entry.staticCredential && server && (await vscode.window.showInformationMessage(message, signIn)) === signIn) await this.signIn(server);
  }

  async signIn(server?: ConfiguredServer): Promise<void> {
    const target = server ?? (await this.pickServer(vscode.l10n.t('Sign in to which server?')));
    if (!target) return;
    // A step-up the relay could not run asks for its scopes here too (the status bar item's click comes here).
    const pending = this.deps.pendingSignIns.take(target.canonicalUrl);
    const credential = await this.deps.activity.run(target.canonicalUrl, 'signingIn', () => this.deps.signIns.signIn(target, pending?.scopes));
    // The account name comes from the server's tokens: never a link in the notification.
    void vscode.window.showInformationMessage(vscode.l10n.t('Signed in to {0} as {1}.', displayName(target.entry), notificationText(credential.account)));
  }

  /** Adds an account: the authorization server is asked for a fresh login; the preferred account stays as it was. */
  async signInAnotherAccount(server?: ConfiguredServer): Promise<void> {
    const target = server ?? (await this.pickServer(vscode.l10n.t('Sign in to which server with another account?')));
    if (!target) return;
    const credential = await this.deps.activity.run(target.canonicalUrl, 'signingIn', () => this.deps.signIns.signIn(target, undefined, { anotherAccount: true }));
    const { preferred } = await this.deps.keyring.accounts(target.canonicalUrl);
    if (!preferred || preferred.account === credential.account) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Signed in to {0} as {1}.', displayName(target.entry), credential.account));
      return;
    }
    const use = vscode.l10n.t('Use {0}', credential.account);
    const answer = await vscode.window.showInformationMessage(vscode.l10n.t('Signed in to {0} as {1}. It still uses {2}.', displayName(target.entry), credential.account, preferred.account), use);
    if (answer === use) await this.deps.keyring.setPreferredAccount(target.canonicalUrl, credential.account);
  }

  /** Chooses the account the server uses: the relay, the editor's MCP client and other extensions' sessions. */
  async switchAccount(target?: CommandTarget): Promise<void> {
    if (isServerAccount(target)) {
      await this.useAccount(target);
      return;
    }
    const server = target ?? (await this.pickServer(vscode.l10n.t('Switch the account of which server?')));
    if (!server) return;
    const { accounts } = await listServerAccounts(this.deps.keyring, server);
    const another = { label: vscode.l10n.t('$(add) Sign in with Another Account…'), account: undefined };
    const picked = await vscode.window.showQuickPick(
      [...accounts.map((account) => ({ label: account.status.account, description: account.status.isPreferred ? vscode.l10n.t('in use') : undefined, account })), another],
      { title: vscode.l10n.t('Which account should {0} use?', displayName(server.entry)) },
    );
    if (!picked) return;
    if (picked.account) await this.useAccount(picked.account);
    else await this.signInAnotherAccount(server);
  }

  private async useAccount({ server, status }: ServerAccount): Promise<void> {
    await this.deps.keyring.setPreferredAccount(server.canonicalUrl, status.accountId);
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} now uses {1}.', displayName(server.entry), status.account));
  }

  async signOut(target?: CommandTarget): Promise<void> {
    const server = isServerAccount(target) ? target.server : target ?? (await this.pickServer(vscode.l10n.t('Sign out of which server?')));
    if (!server) return;
    if (server.entry.staticCredential && server.entry.staticCredential !== 'none') {
      if (await this.confirmSignOut(vscode.l10n.t('Sign out of {0}?', displayName(server.entry)))) await this.deps.staticCredentials.delete(server.canonicalUrl);
      return;
    }
    const account = isServerAccount(target) ? target.status : await this.pickAccountToSignOut(server);
    if (account === undefined) return;
    const question = account === 'all'
      ? vscode.l10n.t('Sign out of {0}?', displayName(server.entry))
      : vscode.l10n.t('Sign out of {0} as {1}?', displayName(server.entry), account.account);
    if (!(await this.confirmSignOut(question, editorAccountsIn(account === 'all' ? (await listServerAccounts(this.deps.keyring, server)).accounts.map((each) => each.status) : [account])))) return;
    const result = await this.deps.keyring.signOut(server.canonicalUrl, { account: account === 'all' ? undefined : account.accountId });
    const detail = result.revocationError ? vscode.l10n.t('The server could not revoke the tokens; they were forgotten here.') : undefined;
    const done = account === 'all'
      ? vscode.l10n.t('Signed out of {0}.', displayName(server.entry))
      : vscode.l10n.t('Signed out of {0} as {1}.', displayName(server.entry), account.account);
    void vscode.window.showInformationMessage(done + (detail ? ` ${detail}` : ''));
  }

  /** With one account (or none) there is nothing to choose; with several, which one, or all of them. */
  private async pickAccountToSignOut(server: ConfiguredServer): Promise<ServerAccount['status'] | 'all' | undefined> {
    const { accounts } = await listServerAccounts(this.deps.keyring, server);
    if (accounts.length <= 1) return 'all';
    const picked = await vscode.window.showQuickPick(
      [...accounts.map((account) => ({ label: account.status.account, choice: account.status })), { label: vscode.l10n.t('All accounts'), choice: 'all' as const }],
      { title: vscode.l10n.t('Sign out of {0} as whom?', displayName(server.entry)) },
    );
    return picked?.choice;
  }

  /** Signing out of an account lent by the editor forgets it here only; the modal says so, naming the editor's account. */
  private async confirmSignOut(question: string, editorAccounts: readonly EditorProviderId[] = []): Promise<boolean> {
    const signOut = vscode.l10n.t('Sign Out');
    const detail = editorAccounts.length === 0
      ? undefined
      : vscode.l10n.t('MCP Keyring stops using {0} for this server. You stay signed in to it in the editor (Accounts menu).', editorAccounts.map(editorAccountName).join(', '));
    return (await vscode.window.showWarningMessage(question, { modal: true, detail }, signOut)) === signOut;
  }

  async refreshNow(target?: CommandTarget): Promise<void> {
    const server = isServerAccount(target) ? target.server : target ?? (await this.pickServer(vscode.l10n.t('Refresh which server?')));
    if (!server) return;
    const account = isServerAccount(target) ? target.status.accountId : undefined;
    await this.deps.activity.run(server.canonicalUrl, 'refreshing', () => this.deps.keyring.refresh(server.canonicalUrl, { account }));
  }

  async diagnose(server?: ConfiguredServer): Promise<void> {
    const target = server ?? (await this.pickServer(vscode.l10n.t('Diagnose which server?')));
    if (!target) return;
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Diagnosing {0}…', displayName(target.entry)) },
      () => this.deps.keyring.diagnose(target.canonicalUrl),
    );
    await this.deps.diagnoses.show(displayName(target.entry), formatDiagnosis(report));
  }

  async importMcpJson(): Promise<void> {
    const configured = new Set(this.deps.registry.list().map((server) => server.canonicalUrl));
    const candidates = (await readMcpJsonServers(mcpJsonLocations(this.deps.globalStorageUri))).filter((server) => {
      try {
        parseServerUrl(server.url);
        return !configured.has(this.deps.registry.find(server.url)?.canonicalUrl ?? '');
      } catch {
        return false;
      }
    });
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No new HTTP servers found in mcp.json.'));
      return;
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((server) => ({ label: server.name, description: server.url, detail: server.source, picked: true, server })),
      { canPickMany: true, title: vscode.l10n.t('Import servers from mcp.json') },
    );
    for (const { server } of picked ?? []) {
      // Header values may be secrets or ${input:…} placeholders; settings are synced, so none are copied.
      await this.deps.registry.put({ url: server.url, label: server.name });
    }
  }

  async resetRegistration(server?: ConfiguredServer): Promise<void> {
    const target = server ?? (await this.pickServer(vscode.l10n.t('Reset the registration of which server?')));
    if (!target) return;
    const reset = vscode.l10n.t('Reset');
    const question = vscode.l10n.t('Sign out of {0} and forget its client registration? The next sign-in registers again.', displayName(target.entry));
    if ((await vscode.window.showWarningMessage(question, { modal: true }, reset)) !== reset) return;
    // First, while the client is still known: a credential whose client is forgotten can be neither refreshed nor revoked.
    await signOutIfSignedIn(this.deps.keyring, target.canonicalUrl);
    await this.deps.keyring.resetRegistration(target.canonicalUrl);
  }

  async copyAccessToken(target?: CommandTarget): Promise<void> {
    const server = isServerAccount(target) ? target.server : target ?? (await this.pickServer(vscode.l10n.t('Copy the token of which server?')));
    if (!server) return;
    const copy = vscode.l10n.t('Copy');
    const warning = vscode.l10n.t('The access token grants access to {0} as you. Anyone who sees it can use it until it expires.', displayName(server.entry));
    if ((await vscode.window.showWarningMessage(warning, { modal: true }, copy)) !== copy) return;
    const account = isServerAccount(target) ? target.status.accountId : undefined;
    const credential = await this.deps.keyring.getAccessToken(server.canonicalUrl, { interactive: false, account });
    await vscode.env.clipboard.writeText(credential.accessToken);
  }

  async editServers(): Promise<void> {
    await vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'mcpKeyring.servers' } });
  }

  async removeServer(server?: ConfiguredServer): Promise<void> {
    const target = server ?? (await this.pickServer(vscode.l10n.t('Remove which server?')));
    if (!target) return;
    const remove = vscode.l10n.t('Remove');
    if ((await vscode.window.showWarningMessage(vscode.l10n.t('Remove {0} and sign out of it?', displayName(target.entry)), { modal: true }, remove)) !== remove) return;
    // Purged here too, not only by the settings watcher: an entry from workspace settings stays listed there.
    await purgeServer(this.deps, target.canonicalUrl);
    await this.deps.registry.remove(target.canonicalUrl);
  }

  private async pickServer(title: string): Promise<ConfiguredServer | undefined> {
    const servers = this.deps.registry.list();
    if (servers.length <= 1) return servers[0];
    const picked = await vscode.window.showQuickPick(servers.map((server) => ({ label: displayName(server.entry), description: redactUrl(server.canonicalUrl), server })), { title });
    return picked?.server;
  }

  /** What sign-in will lack, asked now: whether to keep a server discovery failed on, a client id where registration is closed. */
  private async askForOAuthGaps(entry: ServerEntry, findings: DiagnoseReport): Promise<ServerEntry | undefined> {
    if (findings.error) {
      const keep = vscode.l10n.t('Add Anyway');
      const answer = await vscode.window.showWarningMessage(vscode.l10n.t('MCP Keyring could not work out how to sign in to this server ({0}).', findings.error.code), { modal: true, detail: redactText(findings.error.message) }, keep);
      return answer === keep ? entry : undefined;
    }
    const as = findings.discovery?.authorizationServer;
    if (!as || as.registration_endpoint || as.client_id_metadata_document_supported) return entry;
    const clientId = await vscode.window.showInputBox({
      title: vscode.l10n.t('Client id needed'),
      prompt: vscode.l10n.t('{0} does not let MCP Keyring register itself. Enter a client id registered there (allowing the redirect URIs shown in the log).', new URL(as.issuer).origin),
      ignoreFocusOut: true,
    });
    return clientId ? { ...entry, clientId: clientId.trim() } : undefined;
  }

  private async askStaticCredential(): Promise<StaticCredentialKind | undefined> {
    const picked = await vscode.window.showQuickPick(
      [
        { label: vscode.l10n.t('No credential'), credentialKind: 'none' as const },
        { label: vscode.l10n.t('Bearer token'), credentialKind: 'bearer' as const },
        { label: vscode.l10n.t('API key header'), credentialKind: 'apiKeyHeader' as const },
      ],
      { title: vscode.l10n.t('This server did not ask for OAuth. Does it need a static credential?') },
    );
    return picked?.credentialKind;
  }

  private async withStaticCredential(entry: ServerEntry, kind: StaticCredentialKind): Promise<ServerEntry> {
    if (kind === 'none') return entry;
    const header = kind === 'apiKeyHeader'
      ? await vscode.window.showInputBox({ title: vscode.l10n.t('Header name'), value: 'X-API-Key', ignoreFocusOut: true, validateInput: (value) => (/^[\w-]{1,64}$/.test(value) ? undefined : vscode.l10n.t('Not a header name.')) })
      : undefined;
    const secret = await vscode.window.showInputBox({ title: vscode.l10n.t('Credential'), password: true, ignoreFocusOut: true });
    if (!secret || (kind === 'apiKeyHeader' && !header)) return entry;
    await this.deps.staticCredentials.set(canonicalServerUrl(parseServerUrl(entry.url)), secret);
    return { ...entry, staticCredential: kind, apiKeyHeader: header };
  }
}

function validateServerUrl(value: string): string | undefined {
  try {
    parseServerUrl(value.trim());
    return undefined;
  } catch (error) {
    return isKeyringError(error) ? error.message : vscode.l10n.t('Not a valid URL.');
  }
}

/** Commands run from menus: failures become one clear message, cancellations stay silent. */
export async function reportFailure(work: Promise<unknown>, logger: Logger, commandId: string): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (error instanceof vscode.CancellationError || isKeyringError(error, 'cancelled')) return;
    const code = isKeyringError(error) ? error.code : 'failed';
    logger.error(`[${commandId}] ${error instanceof Error ? error.message : 'failed'}`);
    const missing = isKeyringError(error) ? error.missing : undefined;
    void vscode.window.showErrorMessage(vscode.l10n.t('MCP Keyring: {0}', missing ? describeMissing(missing) : describeError(code)));
  }
}

/** The editor's words for what the engine found missing: where in the editor to give it. */
function describeMissing(missing: MissingConfiguration): string {
  switch (missing) {
    case 'clientId':
      return vscode.l10n.t('The authorization server does not allow registration; add a "clientId" registered there to this server\'s entry in the mcpKeyring.servers setting.');
    case 'clientSecret':
      return vscode.l10n.t('This server\'s client needs its secret: use "MCP Keyring: Set Server Secret…".');
    case 'privateKey':
      return vscode.l10n.t('This server\'s client needs its private key: use "MCP Keyring: Set Server Secret…".');
    case 'scopes':
      return vscode.l10n.t('The server suggested no scope to request; add "scopes" to this server\'s entry in the mcpKeyring.servers setting.');
    case 'assumePkce':
      return vscode.l10n.t('The authorization server does not advertise PKCE; if you know it enforces PKCE, add "assumePkce": true to this server\'s entry in the mcpKeyring.servers setting.');
    case 'resource':
      return vscode.l10n.t('The authorization server refused the resource indicator; add "resource": "omit", or the URI it knows the server by, to this server\'s entry in the mcpKeyring.servers setting.');
    case 'audience':
      return vscode.l10n.t('The server refused a token obtained a moment ago; if its authorization server needs an audience (Auth0), add "authorizationParameters" with "audience" set to the identifier of its API to this server\'s entry in the mcpKeyring.servers setting.');
  }
}

function describeError(code: string): string {
  switch (code) {
    case 'access_denied':
      return vscode.l10n.t('Access was denied at the authorization server.');
    case 'timeout':
      return vscode.l10n.t('The server did not answer in time.');
    case 'registration_unavailable':
      return vscode.l10n.t('The authorization server does not allow registration; configure a client id for this server.');
    case 'needs_sign_in':
      return vscode.l10n.t('The authorization server no longer accepts this sign-in (a refused refresh, or a revoked grant); sign in again.');
    case 'not_signed_in':
      return vscode.l10n.t('Not signed in to this server; sign in first.');
    case 'device_flow_unavailable':
      return vscode.l10n.t('The authorization server offers no device code sign-in; choose another redirect for this server.');
    case 'device_code_expired':
      return vscode.l10n.t('The device code expired before it was approved; sign in again.');
    case 'invalid_grant':
      return vscode.l10n.t('The authorization server refused the grant (an expired or rejected assertion, or a revoked sign-in). See the log for details.');
    case 'issuer_changed':
      return vscode.l10n.t('The server now names another authorization server; its configured client was not sent there. Signing in asks whether to use the new one.');
    case 'invalid_client':
      return vscode.l10n.t('The authorization server refused the client: check its id, secret or private key ("MCP Keyring: Set Server Secret…").');
    case 'usage':
      return vscode.l10n.t('The server\'s configuration is incomplete. See the log for what is missing.');
    default:
      return vscode.l10n.t('The operation failed ({0}). See the log for details.', code);
  }
}

/** The editor providers whose accounts these are, once each. */
function editorAccountsIn(statuses: readonly Pick<CredentialStatus, 'clientId'>[]): EditorProviderId[] {
  return [...new Set(statuses.map((status) => providerOfClientId(status.clientId)).filter((id) => id !== undefined))];
}
