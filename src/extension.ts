// Composition root of the extension: build the objects, register them, hand every disposable to its owner.
import * as vscode from 'vscode';
import type { CredentialChange } from './core/events';
import { KeyringError, shortErrorCode } from './core/errors';
import { Keyring } from './core/keyring';
import { lookupCheckedNetwork } from './core/lookupCheckedNetwork';
import { systemClock, systemTimers } from './core/ports';
import { AuthorizingRelay } from './node/authorizingRelay';
import { readSecretFile } from './node/readSecretFile';
import { createRequestNetwork } from './node/requestNetwork';
import { resolveHost } from './node/resolveHost';
import { createApi, type McpKeyringApi } from './vscode/api';
import { KeyringAuthenticationProvider } from './vscode/authenticationProvider';
import { EditorAccounts } from './vscode/editorAccounts';
import { CachedSecrets } from './vscode/cachedSecrets';
import { ClientSecrets, GrantSecrets, StaticCredentials } from './vscode/serverSecrets';
import { registerCommands } from './vscode/commands';
import { DIAGNOSIS_SCHEME, DiagnosisDocuments } from './vscode/diagnosisDocuments';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, MCP_PROVIDER_ID, SERVERS_VIEW_ID, Settings } from './vscode/ids';
import { channelLogger } from './vscode/log';
import { KeyringMcpDefinitionProvider } from './vscode/mcpDefinitionProvider';
import { PendingSignIns } from './vscode/pendingSignIns';
import { RefreshScheduler } from './core/refreshScheduler';
import { createUpstreamResolver } from './vscode/relayUpstreams';
import { SecretStorageStore } from './vscode/secretStorageStore';
import { ServerActivity } from './vscode/serverActivity';
import { ServerAttention } from './vscode/serverAttention';
import { purgeServer, SettingsPurge } from './vscode/serverPurge';
import { ServerRegistry } from './vscode/serverRegistry';
import { registerServerSecretCommand } from './vscode/serverSecretCommand';
import { ServerTokenOptions } from './vscode/serverTokenOptions';
import { ServerTreeProvider } from './vscode/serverTree';
import { SignInService } from './vscode/signInService';
import { RedirectReceivers, WAIT_FOR_BROWSER_MS } from './vscode/redirectReceivers';
import { UriHandlerCallbacks } from './vscode/uriHandlerReceiver';
import { WorkspaceServerConsent } from './vscode/workspaceServerConsent';

export function activate(context: vscode.ExtensionContext): McpKeyringApi {
  const own = <T extends vscode.Disposable | { dispose(): unknown }>(disposable: T): T => {
    context.subscriptions.push(disposable);
    return disposable;
  };
  const log = own(vscode.window.createOutputChannel('MCP Keyring', { log: true }));
  const logger = channelLogger(log);

  const store = own(new SecretStorageStore({ secrets: context.secrets, logger }));
  const uriCallbacks = own(new UriHandlerCallbacks<vscode.Uri>({
    uriScheme: vscode.env.uriScheme,
    parseUri: (value) => vscode.Uri.parse(value),
    asExternalUri: (uri) => vscode.env.asExternalUri(uri),
    logger,
    timeoutMs: WAIT_FOR_BROWSER_MS,
  }));
  own(vscode.window.registerUriHandler(uriCallbacks));
  // The relay reads a server's secrets for every request it forwards: through a cache, not an IPC each time.
  const serverSecrets = own(new CachedSecrets(context.secrets));
  const clientSecrets = new ClientSecrets(serverSecrets);
  const staticCredentials = new StaticCredentials(serverSecrets);
  const grantSecrets = new GrantSecrets(serverSecrets);
  const registry = own(new ServerRegistry(logger, own(new WorkspaceServerConsent(context.workspaceState, logger))));
  const serverTokenOptions = new ServerTokenOptions({
    clientSecrets,
    grantSecrets,
    readFile: readSecretFile,
    clientMetadataUrl: () => registry.clientMetadataUrl(),
  });

  const receivers = new RedirectReceivers(() => uriCallbacks.createReceiver(), logger);
  const keyring = own(Keyring.create({
    store,
    fetch: (input, init) => fetch(input, init),
    // Node's http(s) requests, which the editor routes through the person's proxy: checked where a direct connection
    // is made, and on a lookup just before each request for what goes through a proxy.
    network: lookupCheckedNetwork(createRequestNetwork(), resolveHost),
    openUrl: openInBrowser,
    createReceiver: receivers.create,
    logger,
    clock: systemClock,
    // Read at each request, so a change applies at once. Machine-scoped: a remote window (code-server included)
    // reads it from the remote's Machine settings only.
    allowInsecureLoopback: () => vscode.workspace.getConfiguration(Settings.section).get(Settings.allowInsecureLoopback, false),
    serverOptions: async (serverUrl) => {
      const server = registry.find(serverUrl);
      return server && serverTokenOptions.forServer(server.entry, server.canonicalUrl);
    },
    // The person's GitHub and Microsoft accounts in the editor, offered for servers that sign in there.
    externalAccounts: new EditorAccounts(logger),
  }));
  const signIns = new SignInService({ keyring, receivers, logger });
  // Credential changes from this window come from the engine and the purge; those from other windows through
  // SecretStorage.
  const credentialChanges = own(new vscode.EventEmitter<CredentialChange>());
  const announce = (change: CredentialChange) => credentialChanges.fire(change);
  own(keyring.onDidChangeCredentials(announce));
  own(store.onDidChangeInAnotherWindow((key) => void keyring.changeOfStoreKey(key, registry.list().map((server) => server.canonicalUrl))
    .then((change) => change && announce(change), (error: unknown) => logger.warn(`[storeChanges] ${shortErrorCode(error)}`))));

  const settingsPurge = own(new SettingsPurge({
    registry,
    memento: context.globalState,
    purge: (canonicalUrl) => purgeServer({ keyring, clientSecrets, grantSecrets, staticCredentials, logger, announce }, canonicalUrl),
    logger,
  }));
  // Entries removed or changed while the editor was closed.
  void settingsPurge.reconcile();
  const activity = own(new ServerActivity());
  const pendingSignIns = own(new PendingSignIns());
  // Started when the editor first asks for MCP server definitions, not on the activation path (issue #15).
  let relayStarted: Promise<AuthorizingRelay> | undefined;
  const relay = () => (relayStarted ??= AuthorizingRelay.start({ logger, resolve: createUpstreamResolver(registry, keyring, staticCredentials, pendingSignIns) }).catch((error: unknown) => {
    // The next request for definitions tries again.
    relayStarted = undefined;
    throw error;
  }));
  own({ dispose: () => void relayStarted?.then((started) => started.dispose()) });

  const scheduler = own(new RefreshScheduler({
    clock: systemClock,
    timers: systemTimers,
    random: Math.random,
    logger,
    // Read at each planning; a change replans at once (below).
    refreshBeforeExpirySeconds: () => vscode.workspace.getConfiguration(Settings.section).get(Settings.refreshBeforeExpirySeconds, 60),
    listCredentials: async (serverUrl) => (await keyring.status(serverUrl)).map((status) => ({
      serverUrl: status.serverUrl,
      accountId: status.accountId,
      expiresAt: status.expiresAt,
      obtainedAt: status.obtainedAt ?? 0,
      needsSignIn: status.needsSignIn,
      hasRefreshToken: status.hasRefreshToken,
    })),
    // The scheduler decides when (refreshBeforeExpirySeconds, jitter); the engine refreshes now, or skips it when
    // another window has just done so.
    refresh: async (serverUrl, signal, account) => {
      await activity.run(serverUrl, 'refreshing', () => keyring.refresh(serverUrl, { account, signal }));
    },
  }));
  own(vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(`${Settings.section}.${Settings.refreshBeforeExpirySeconds}`)) void scheduler.reschedule();
  }));

  own(credentialChanges.event((change) => void scheduler.reschedule(change.serverUrl)));

  const authProvider = own(new KeyringAuthenticationProvider(keyring, registry, signIns, credentialChanges.event, logger));
  own(vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, authProvider, { supportsMultipleAccounts: true }));

  const mcpProvider = own(new KeyringMcpDefinitionProvider(relay, registry, keyring, signIns, staticCredentials, pendingSignIns, logger));
  own(vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, mcpProvider));

  // What needs the person, from stored state only: re-read whenever a credential, the servers or a pending sign-in change.
  const attention = own(new ServerAttention({ registry, keyring, pendingSignIns, logger }));
  own(credentialChanges.event((change) => {
    if (change.kind === 'signedIn') pendingSignIns.forget(change.serverUrl);
    void attention.update();
  }));
  own(registry.onDidChange(() => void attention.update()));
  own(pendingSignIns.onDidChange(() => void attention.update()));
  void attention.update();

  const tree = own(new ServerTreeProvider({
    registry,
    keyring,
    activity,
    staticCredentials,
    onDidChangeCredentials: credentialChanges.event,
    attentionOf: (server) => attention.attentionOf(server),
    onDidChangeAttention: attention.onDidChange,
  }));
  const treeView = own(vscode.window.createTreeView(SERVERS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true }));
  attention.showBadgeOn(treeView);
  tree.setVisible(treeView.visible);
  own(treeView.onDidChangeVisibility((event) => tree.setVisible(event.visible)));

  const diagnoses = own(new DiagnosisDocuments());
  own(vscode.workspace.registerTextDocumentContentProvider(DIAGNOSIS_SCHEME, diagnoses));
  for (const command of registerCommands({ keyring, registry, signIns, activity, pendingSignIns, clientSecrets, grantSecrets, staticCredentials, diagnoses, log, logger, announce, globalStorageUri: context.globalStorageUri })) own(command);
  own(registerServerSecretCommand({ registry, clientSecrets, grantSecrets }, logger));

  void scheduler.reschedule();
  logger.info('[activate] MCP Keyring ready');
  return createApi(keyring, registry, signIns, credentialChanges.event);
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}

/**
 * The browser step. A person who declines to open the link has cancelled the sign-in. The URL goes to the editor as
 * the string it is: a vscode.Uri would be re-serialised, re-encoding the redirect URI inside the query (which in the
 * web and remote editors carries its own query) so that the authorization server rejects it; the editor's
 * openExternal accepts the string as it is at run time.
 */
async function openInBrowser(url: string): Promise<void> {
  const opened = await vscode.env.openExternal(url as unknown as vscode.Uri);
  if (!opened) throw new KeyringError('cancelled', 'the sign-in page was not opened');
}
