// VS Code's authentication API over the keyring: one session per account of each signed-in MCP server. Callers name
// the server with a `resource:<server URL>` scope entry; the other entries are OAuth scopes. A caller that names no
// account gets the server's preferred one; the Accounts menu (which asks without scopes) sees every account.
// getSessions never prompts.
import * as vscode from 'vscode';
import { shortErrorCode } from '../core/errors';
import type { CredentialChange } from '../core/events';
import type { CredentialStatus, Keyring } from '../core/keyring';
import type { Logger } from '../core/ports';
import { accountId, type Credential } from '../core/records';
import { redactUrl } from '../core/redact';
import { includesAll, unionScopes } from '../core/scopes';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import { RESOURCE_SCOPE_PREFIX } from './ids';
import { toConfiguredServer, type ConfiguredServer } from './configuredServer';
import type { ServerRegistry } from './serverRegistry';
import { sessionIdFor, subjectOfSession } from './sessionIds';
import type { SignInService } from './signInService';

export class KeyringAuthenticationProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly sessionsChanged = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.sessionsChanged.event;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly keyring: Keyring,
    private readonly registry: ServerRegistry,
    private readonly signIns: SignInService,
    onDidChangeCredentials: vscode.Event<CredentialChange>,
    private readonly logger: Logger,
  ) {
    // Fired after the change was stored, so a listener that asks for sessions sees the new state.
    this.subscription = onDidChangeCredentials((change) => void this.announce(change));
  }

  async getSessions(scopes: readonly string[] | undefined, options: vscode.AuthenticationProviderSessionOptions): Promise<vscode.AuthenticationSession[]> {
    let request: ScopeRequest;
    try {
      request = parseScopes(scopes ?? []);
    } catch {
      return []; // a malformed resource names no server we hold a session for
    }
    const statuses = (await this.keyring.status(request.serverUrl)).filter((status) => (options.account
      ? status.accountId === options.account.id
      // Without scopes the editor lists accounts (the Accounts menu): all of them. A caller gets the preferred one.
      : scopes === undefined || status.isPreferred));
    const sessions: vscode.AuthenticationSession[] = [];
    for (const status of statuses) {
      if (status.needsSignIn || !includesAll(status.scopes, request.oauthScopes)) continue;
      try {
        sessions.push(toSession(await this.keyring.getAccessToken(status.serverUrl, { interactive: false, account: status.accountId }), status));
      } catch (error) {
        // A credential that cannot be refreshed silently is not a session; it shows as "needs sign-in" elsewhere.
        this.logger.debug(`[getSessions] ${status.serverUrl}: ${shortErrorCode(error)}`);
      }
    }
    return sessions;
  }

  async createSession(scopes: readonly string[], _options: vscode.AuthenticationProviderSessionOptions): Promise<vscode.AuthenticationSession> {
    const request = parseScopes(scopes);
    if (!request.serverUrl) throw new Error(vscode.l10n.t('Name the MCP server with a scope entry "resource:<server URL>".'));
    const server = this.registry.find(request.serverUrl) ?? adHocServer(request.serverUrl);
    const { preferred } = await this.keyring.accounts(server.canonicalUrl);
    const scopesToRequest = request.oauthScopes.length > 0 ? unionScopes(preferred?.scopes, request.oauthScopes) : undefined;
    // Asked for a new session while the account in use already covers these scopes: the person wants another account.
    const anotherAccount = preferred !== undefined && !preferred.needsSignIn && includesAll(preferred.scopes, request.oauthScopes);
    this.logger.info(`[createSession] signing in to ${server.canonicalUrl}${anotherAccount ? ' with another account' : ''}`);
    const credential = await this.signIns.signIn(server, scopesToRequest, { anotherAccount });
    return toSession(credential, { serverUrl: server.canonicalUrl, accountId: await accountId(credential) });
  }

  async removeSession(sessionId: string): Promise<void> {
    const subject = subjectOfSession(sessionId, await this.keyring.status());
    if (!subject) return; // signed out already
    this.logger.info(`[removeSession] signing out of one account of ${subject.serverUrl}`);
    await this.keyring.signOut(subject.serverUrl, { account: subject.accountId });
  }

  dispose(): void {
    this.subscription.dispose();
    this.sessionsChanged.dispose();
  }

  private async announce({ serverUrl, accountId: changedAccount, kind }: CredentialChange): Promise<void> {
    // A purge signs every account out first, and each sign-out already removed its session.
    if (kind === 'purged') return;
    if ((kind === 'signedOut' || kind === 'needsSignIn') && changedAccount !== undefined) {
      this.sessionsChanged.fire({ added: [], removed: [removedSession({ serverUrl, accountId: changedAccount })], changed: [] });
      return;
    }
    // Another preferred account changes which session every caller gets: each account's session is announced again.
    const statuses = (await this.keyring.status(serverUrl).catch(() => [])).filter((status) => kind === 'preferredChanged' || changedAccount === undefined || status.accountId === changedAccount);
    for (const status of statuses) {
      if (status.needsSignIn) continue;
      try {
        const session = toSession(await this.keyring.getAccessToken(serverUrl, { interactive: false, account: status.accountId }), status);
        this.sessionsChanged.fire(kind === 'signedIn' ? { added: [session], removed: [], changed: [] } : { added: [], removed: [], changed: [session] });
      } catch {
        // The credential changed again meanwhile; the next change event tells the editor.
      }
    }
  }
}

interface ScopeRequest {
  readonly serverUrl?: string;
  readonly oauthScopes: string[];
}

function parseScopes(scopes: readonly string[]): ScopeRequest {
  const resource = scopes.find((scope) => scope.startsWith(RESOURCE_SCOPE_PREFIX));
  return {
    serverUrl: resource ? canonicalServerUrl(parseServerUrl(resource.slice(RESOURCE_SCOPE_PREFIX.length))) : undefined,
    oauthScopes: scopes.filter((scope) => !scope.startsWith(RESOURCE_SCOPE_PREFIX)),
  };
}

/** A session's id names its server and account, so removeSession knows which account to sign out of. */
function toSession(credential: Credential, subject: Pick<CredentialStatus, 'serverUrl' | 'accountId'>): vscode.AuthenticationSession {
  return {
    id: sessionIdFor(subject),
    accessToken: credential.accessToken,
    account: { id: subject.accountId, label: credential.account },
    scopes: [`${RESOURCE_SCOPE_PREFIX}${subject.serverUrl}`, ...credential.scopes],
  };
}

function removedSession(subject: Pick<CredentialStatus, 'serverUrl' | 'accountId'>): vscode.AuthenticationSession {
  const id = sessionIdFor(subject);
  return { id, accessToken: '', account: { id: subject.accountId, label: redactUrl(subject.serverUrl) }, scopes: [`${RESOURCE_SCOPE_PREFIX}${subject.serverUrl}`] };
}

/** Another extension may ask for a server the user has not configured; sign in with the server's own suggestions. */
function adHocServer(serverUrl: string): ConfiguredServer {
  const server = toConfiguredServer({ url: serverUrl });
  if (!server) throw new Error(vscode.l10n.t('"{0}" is not a usable MCP server URL.', serverUrl));
  return server;
}
