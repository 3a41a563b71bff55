// VS Code's authentication API over the keyring: one session per signed-in MCP server. Callers name the server with
// a `resource:<server URL>` scope entry; the other entries are OAuth scopes. getSessions never prompts.
import * as vscode from 'vscode';
import { shortErrorCode } from '../core/errors';
import type { CredentialChange } from '../core/events';
import type { Keyring } from '../core/keyring';
import type { Logger } from '../core/ports';
import type { Credential } from '../core/records';
import { redactUrl } from '../core/redact';
import { includesAll, unionScopes } from '../core/scopes';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import { RESOURCE_SCOPE_PREFIX } from './ids';
import { toConfiguredServer, type ConfiguredServer } from './configuredServer';
import type { ServerRegistry } from './serverRegistry';
import { serverOfSession, sessionIdFor } from './sessionIds';
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
    this.subscription = onDidChangeCredentials((change) => void this.announce(change.serverUrl, change.kind));
  }

  async getSessions(scopes: readonly string[] | undefined, _options: vscode.AuthenticationProviderSessionOptions): Promise<vscode.AuthenticationSession[]> {
    let request: ScopeRequest;
    try {
      request = parseScopes(scopes ?? []);
    } catch {
      return []; // a malformed resource names no server we hold a session for
    }
    const statuses = await this.keyring.status(request.serverUrl);
    const sessions: vscode.AuthenticationSession[] = [];
    for (const status of statuses) {
      if (status.needsSignIn || !includesAll(status.scopes, request.oauthScopes)) continue;
      try {
        sessions.push(toSession(await this.keyring.getAccessToken(status.serverUrl, { interactive: false }), status.serverUrl));
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
    const current = await this.keyring.status(server.canonicalUrl);
    const scopesToRequest = request.oauthScopes.length > 0 ? unionScopes(current[0]?.scopes, request.oauthScopes) : undefined;
    this.logger.info(`[createSession] signing in to ${server.canonicalUrl}`);
    const credential = await this.signIns.signIn(server, scopesToRequest);
    return toSession(credential, server.canonicalUrl);
  }

  async removeSession(sessionId: string): Promise<void> {
    const serverUrl = serverOfSession(sessionId, (await this.keyring.status()).map((status) => status.serverUrl));
    if (!serverUrl) return; // signed out already
    this.logger.info(`[removeSession] signing out of ${serverUrl}`);
    await this.keyring.signOut(serverUrl);
  }

  dispose(): void {
    this.subscription.dispose();
    this.sessionsChanged.dispose();
  }

  private async announce(serverUrl: string, kind: CredentialChange['kind']): Promise<void> {
    if (kind === 'signedOut' || kind === 'needsSignIn' || kind === 'purged') {
      this.sessionsChanged.fire({ added: [], removed: [removedSession(serverUrl)], changed: [] });
      return;
    }
    const statuses = await this.keyring.status(serverUrl).catch(() => []);
    const status = statuses[0];
    if (!status) return;
    try {
      const session = toSession(await this.keyring.getAccessToken(serverUrl, { interactive: false }), serverUrl);
      this.sessionsChanged.fire(kind === 'signedIn' ? { added: [session], removed: [], changed: [] } : { added: [], removed: [], changed: [session] });
    } catch {
      // The credential changed again meanwhile; the next change event tells the editor.
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

/** A session's id names its server, so removeSession knows what to sign out of. */
function toSession(credential: Credential, serverUrl: string): vscode.AuthenticationSession {
  return {
    id: sessionIdFor(serverUrl),
    accessToken: credential.accessToken,
    account: { id: `${credential.issuer}#${credential.account}`, label: credential.account },
    scopes: [`${RESOURCE_SCOPE_PREFIX}${serverUrl}`, ...credential.scopes],
  };
}

function removedSession(serverUrl: string): vscode.AuthenticationSession {
  const id = sessionIdFor(serverUrl);
  return { id, accessToken: '', account: { id, label: redactUrl(serverUrl) }, scopes: [`${RESOURCE_SCOPE_PREFIX}${serverUrl}`] };
}

/** Another extension may ask for a server the user has not configured; sign in with the server's own suggestions. */
function adHocServer(serverUrl: string): ConfiguredServer {
  const server = toConfiguredServer({ url: serverUrl });
  if (!server) throw new Error(vscode.l10n.t('"{0}" is not a usable MCP server URL.', serverUrl));
  return server;
}
