// The API other extensions get from `activate()`: tokens for a server, change events, the configured servers.
import * as vscode from 'vscode';
import type { CredentialChange } from '../core/events';
import { isSignInRequired } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { displayName } from './serverEntry';
import { toConfiguredServer } from './configuredServer';
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
