// The API other extensions get from `activate()`: the configured servers and their states, change events, and
// starting a sign-in or sign-out. It hands out no token: VS Code gives every extension the same exports object and
// tells it nothing about who calls, so a token here would go to any installed extension without the person's consent.
// Tokens leave the extension only through `vscode.authentication.getSession('mcp-keyring', …)`, which the editor
// gates per extension.
import * as vscode from 'vscode';
import type { CredentialChange } from '../core/events';
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
  /**
   * Signs in to the server, showing the editor's UI (or runs its machine grant); resolves once a credential is stored.
   * For the token itself, ask `vscode.authentication.getSession('mcp-keyring', ['resource:<server URL>'], …)`.
   */
  signIn(serverUrl: string): Promise<void>;
  /**
   * Signs out of every account of the server without asking (the caller asks, if it should): revokes at the server
   * where it offers revocation, forgets the credentials in any case, and fires `onDidChangeCredentials`. Not signed
   * in: nothing to do.
   */
  signOut(serverUrl: string): Promise<void>;
  readonly onDidChangeCredentials: vscode.Event<CredentialChange>;
  listServers(): Promise<McpKeyringServerInfo[]>;
}

export function createApi(keyring: Keyring, registry: ServerRegistry, signIns: SignInService, onDidChangeCredentials: vscode.Event<CredentialChange>): McpKeyringApi {
  return {
    async signIn(serverUrl) {
      const server = registry.find(serverUrl) ?? toConfiguredServer({ url: serverUrl });
      if (!server) throw new Error(vscode.l10n.t('"{0}" is not a usable MCP server URL.', serverUrl));
      await signIns.signIn(server);
    },
    signOut: (serverUrl) => signOutIfSignedIn(keyring, serverUrl),
    onDidChangeCredentials,
    async listServers() {
      // A server is signed in as its preferred account; the others are the Accounts menu's and the view's.
      const statuses = new Map((await keyring.status()).filter((status) => status.isPreferred).map((status) => [status.serverUrl, status]));
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
