// Every identifier the extension shares with package.json and the editor, in one place.

export const EXTENSION_ID = 'mcp-keyring.mcp-keyring';
export const AUTH_PROVIDER_ID = 'mcp-keyring';
export const AUTH_PROVIDER_LABEL = 'MCP Keyring';
export const MCP_PROVIDER_ID = 'mcpKeyring.servers';
export const SERVERS_VIEW_ID = 'mcpKeyring.serversView';
export const URI_CALLBACK_PATH = '/callback';
/** A scope entry of an authentication session request that names the MCP server: `resource:<server URL>`. */
export const RESOURCE_SCOPE_PREFIX = 'resource:';

export const Commands = {
  addServer: 'mcpKeyring.addServer',
  signIn: 'mcpKeyring.signIn',
  signOut: 'mcpKeyring.signOut',
  refreshNow: 'mcpKeyring.refreshNow',
  diagnose: 'mcpKeyring.diagnose',
  importMcpJson: 'mcpKeyring.importMcpJson',
  resetRegistration: 'mcpKeyring.resetRegistration',
  showLog: 'mcpKeyring.showLog',
  copyAccessToken: 'mcpKeyring.copyAccessToken',
  editServer: 'mcpKeyring.editServer',
  removeServer: 'mcpKeyring.removeServer',
  setServerSecret: 'mcpKeyring.setServerSecret',
} as const;

export const Settings = {
  section: 'mcpKeyring',
  servers: 'servers',
  redirectStrategy: 'redirectStrategy',
  refreshBeforeExpirySeconds: 'refreshBeforeExpirySeconds',
  clientMetadataUrl: 'clientMetadataUrl',
  allowInsecureLoopback: 'allowInsecureLoopback',
} as const;

/** Keys of the extension's globalState (non-secret metadata only). */
export const StateKeys = {
  /** The user settings' servers seen last, with what their credentials depend on (see serverPurge). */
  userServers: 'mcpKeyring.userServers',
  /** In workspaceState: what the person allowed this workspace's settings to say about where secrets go. */
  confirmedWorkspaceRouting: 'mcpKeyring.confirmedWorkspaceRouting',
} as const;

/** Tree item contextValue values, matched by `viewItem ==` in package.json menus. */
export const TreeItemContext = {
  signedIn: 'mcpKeyring.server.signedIn',
  signedOut: 'mcpKeyring.server.signedOut',
  needsSignIn: 'mcpKeyring.server.needsSignIn',
  staticCredential: 'mcpKeyring.server.static',
  /** An account under a server (menus for accounts match `viewItem == mcpKeyring.account`). */
  account: 'mcpKeyring.account',
} as const;

/** Prefix of every SecretStorage key the extension writes. */
export const SECRET_KEY_PREFIX = 'mcpKeyring/';
