// The API other extensions get from `activate()`: tokens for a server, sign-out, change events, the configured servers.
//
// It asks no per-extension consent, unlike `vscode.authentication.getSession('mcp-keyring', …)`: VS Code gives an
// extension's exports one shared object and tells it nothing about who calls, so a consent check here could be
// claimed by any caller for any other. Extensions that should need the person's consent use the authentication API.
import * as vscode from 'vscode';
import type { CredentialChange } from '../core/events';
import { isSignInRequired } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { displayName } from './serverEntry';
import { toConfiguredServer } from './configuredServer';
import { signOutIfSignedIn } from './serverPurge';
import type { ServerRegistry } from './serverRegistry';
import type { SignInService } from './signInService';

export interface McpKeyringServerInfo {
  readonly url: string;
  readonly label: string;
  readonly signedIn: boolean;
  readonly needsSignIn: boolean;
  readonly expiresAt?: number;
}

export interface McpKeyringApi {
  /** A valid access token for the server; with `interactive`, signs in when needed (showing the editor's UI). */
  getAccessToken(serverUrl: string, options?: { interactive?: boolean }): Promise<string>;
  /**
   * Signs out of the server without asking (the caller asks, if it should): revokes at the server where it offers
   * revocation, forgets the credential in any case, and fires `onDidChangeCredentials`. Not signed in: nothing to do.
   */
  signOut(serverUrl: string): Promise<void>;
  readonly onDidChangeCredentials: vscode.Event<CredentialChange>;
  listServers(): Promise<McpKeyringServerInfo[]>;
}

export function createApi(keyring: Keyring, registry: ServerRegistry, signIns: SignInService, onDidChangeCredentials: vscode.Event<CredentialChange>): McpKeyringApi {
  return {
    async getAccessToken(serverUrl, options) {
      try {
        return (await keyring.getAccessToken(serverUrl, { interactive: false })).accessToken;
      } catch (error) {
        if (!options?.interactive || !isSignInRequired(error)) throw error;
      }
      const server = registry.find(serverUrl) ?? toConfiguredServer({ url: serverUrl });
      if (!server) throw new Error(vscode.l10n.t('"{0}" is not a usable MCP server URL.', serverUrl));
      return (await signIns.signIn(server)).accessToken;
    },
    signOut: (serverUrl) => signOutIfSignedIn(keyring, serverUrl),
    onDidChangeCredentials,
    async listServers() {
      const statuses = new Map((await keyring.status()).map((status) => [status.serverUrl, status]));
      return registry.list().map((server) => {
        const status = statuses.get(server.canonicalUrl);
        return {
          url: server.canonicalUrl,
          label: displayName(server.entry),
          signedIn: Boolean(status && !status.needsSignIn),
          needsSignIn: status?.needsSignIn ?? false,
          expiresAt: status?.expiresAt,
        };
      });
    },
  };
}
