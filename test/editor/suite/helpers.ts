// What the in-editor suites share: the extension's API as a caller sees it, the fixture servers' addresses, and
// waiting for the editor, the keyring and the runner (who plays the person in the browser).
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readEditorTestConfig } from './editorTestConfig';
import { runner, type RunnerCheckResult, type RunnerState } from './runner';

export const extensionId = 'mcp-keyring.mcp-keyring';
export const providerId = 'mcp-keyring';
/** The editor names an extension's MCP server definitions `<extension id>/<label>`; the label comes from the settings. */
export const fixtureDefinitionId = `${extensionId}/Fixture MCP server`;

/** What `activate()` returns: no token, ever (tokens go through the consent-gated authentication API). */
export interface KeyringApi {
  signIn(serverUrl: string): Promise<void>;
  readonly onDidChangeCredentials: vscode.Event<{ serverUrl: string; kind: string }>;
  signOut(serverUrl: string): Promise<void>;
  listServers(): Promise<{ url: string; label: string; signedIn: boolean; needsSignIn: boolean; expiresAt?: number }[]>;
}

export interface Config {
  readonly serverUrl: string;
  readonly loopbackServerUrl: string;
  readonly codeServerOrigin: string;
  readonly login: string;
  readonly issuer: string;
  readonly bearerServerUrl: string;
  readonly apiKeyServerUrl: string;
  readonly apiKeyHeader: string;
  readonly deviceServerUrl: string;
  readonly stepUpServerUrl: string;
  /** Behind better-auth, whose sign-in and consent pages are its app's own. */
  readonly betterAuthServerUrl: string;
  readonly viewServerUrl: string;
  /** Accepts only DPoP-bound tokens. */
  readonly machineServerUrl: string;
  readonly machineClientId: string;
  /** A loopback address the editor reaches only through the proxy in its settings. */
  readonly onlyThroughProxy: string;
}

export function fixtureConfig(): Config {
  const config = readEditorTestConfig();
  for (const name of ['serverUrl', 'loopbackServerUrl', 'login', 'issuer', 'bearerServerUrl', 'apiKeyServerUrl', 'apiKeyHeader', 'deviceServerUrl', 'stepUpServerUrl', 'betterAuthServerUrl', 'viewServerUrl', 'machineServerUrl', 'machineClientId', 'onlyThroughProxy']) {
    if (typeof config[name] !== 'string') throw new Error(`the runner gave no ${name}: run the suite through test/editor/runEditorTests.ts`);
  }
  return config as unknown as Config;
}

export function resourceScope(url: string): string {
  return `resource:${url}`;
}

export function silentSession(url: string): Thenable<vscode.AuthenticationSession | undefined> {
  return vscode.authentication.getSession(providerId, [resourceScope(url)], { silent: true });
}

/** The accounts the provider offers sessions for; the editor asks no one's permission to list them. */
export async function accountLabels(): Promise<string[]> {
  return (await vscode.authentication.getAccounts(providerId)).map((account) => account.label);
}

/**
 * What tells the credential the keyring holds now from the one before (its expiry: a new token brings a new one),
 * without the token, which the API does not hand out; undefined when not signed in.
 */
export async function currentCredential(api: KeyringApi, url: string): Promise<number | undefined> {
  const server = (await api.listServers()).find((each) => each.url === url);
  return server?.signedIn ? server.expiresAt : undefined;
}

/** Resolves with the first event `predicate` accepts; rejects after `timeoutMs`, naming what never happened. */
export function nextEvent<T>(event: vscode.Event<T>, what: string, timeoutMs: number, predicate: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`${what} did not happen within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = event((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
    });
  });
}

/** A `mcpKeyring.servers` entry as a suite adds one. */
export interface ServerEntry {
  readonly url: string;
  readonly label?: string;
  readonly redirect?: string;
  /** Any other field of `mcpKeyring.servers` (client, grant…). */
  readonly [field: string]: unknown;
}

/**
 * For a suite with a server of its own: activates the extension, has the runner play the person in new tabs (an
 * earlier suite may have left it holding them), adds `entry` to the user's servers and waits until the extension
 * lists it. Returns the API and what puts the setting back as it was.
 */
async function activateWithServer(entry: ServerEntry): Promise<{ api: KeyringApi; restoreServers: () => Thenable<void> }> {
  const api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
  await runner.setPopupMode('complete');
  const settings = () => vscode.workspace.getConfiguration('mcpKeyring');
  const original = settings().inspect<ServerEntry[]>('servers')?.globalValue;
  await settings().update('servers', [...(original ?? []), entry], vscode.ConfigurationTarget.Global);
  await eventually('the new server entry reaching the extension', 10_000, async () => ((await api.listServers()).some((server) => server.url === entry.url) ? true : undefined));
  return { api, restoreServers: () => settings().update('servers', original, vscode.ConfigurationTarget.Global) };
}

/**
 * A suite's own server: registers the suite's setup (`activateWithServer`) and the teardown that puts the setting back.
 * Returns the API, available from the suite's setup on. Hooks a suite registers later run after these on setup.
 */
export function serverForSuite(entry: ServerEntry): () => KeyringApi {
  let api: KeyringApi | undefined;
  let restoreServers: (() => Thenable<void>) | undefined;
  suiteSetup(async function () {
    ({ api, restoreServers } = await activateWithServer(entry));
  });
  suiteTeardown(async () => {
    await restoreServers?.();
  });
  return () => {
    if (!api) throw new Error(`the suite's server ${entry.url} was not set up`);
    return api;
  };
}

/** Polls `probe` until it returns something; for state the editor reaches on its own schedule. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} within ${timeoutMs} ms${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/**
 * Signs in interactively while the runner plays the person; fails as soon as the authorization server refuses the
 * browser, with what its page said, instead of waiting out the extension's five minutes for a callback.
 */
export async function signInThroughBrowser(api: KeyringApi, url: string): Promise<void> {
  const popupsBefore = (await runner.state()).popups.length;
  let isDone = false;
  const refused = (async (): Promise<never> => {
    while (!isDone) {
      const error = (await runner.state()).popups.slice(popupsBefore).find((popup) => popup.error)?.error;
      if (error) throw new Error(`the browser could not complete the sign-in: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return new Promise<never>(() => undefined);
  })();
  try {
    await Promise.race([api.signIn(url), refused]);
  } finally {
    isDone = true;
  }
}

export function assertNoFailures(result: RunnerCheckResult): void {
  assert.deepEqual(result.failures, [], `${result.title}:\n${result.failures.join('\n')}`);
}

export function resultText(result: vscode.LanguageModelToolResult): string {
  return result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : JSON.stringify(part))).join('');
}

/** The fixture MCP server's `echo` tool among the editor's tools (the loopback server's has a similar name). */
export function fixtureEchoTool(): vscode.LanguageModelToolInformation | undefined {
  return vscode.lm.tools.find((tool) => /fixture/i.test(tool.name) && !/loopback/i.test(tool.name) && tool.name.endsWith('echo'));
}

/**
 * Has the editor's MCP client start one of the keyring's servers and waits until `find` sees what it brought.
 * Definitions reach the workbench a little after they change, and starting an id the editor does not know yet does
 * nothing: so the start is repeated until the tools are there. Only this server is started: waiting for every
 * server's tools would wait on any other server's sign-in too.
 */
export function startServerAndFind<T>(definitionId: string, what: string, find: () => T | undefined, timeoutMs = 45_000): Promise<T> {
  return eventually(what, timeoutMs, async () => {
    await vscode.commands.executeCommand('workbench.mcp.startServer', definitionId, { waitForLiveTools: true });
    return find();
  });
}

/** Has the editor's MCP client connect to the fixture MCP server (signed in already) and waits for its `echo` tool. */
export function startFixtureEchoTool(): Promise<vscode.LanguageModelToolInformation> {
  return startServerAndFind(fixtureDefinitionId, 'the fixture echo tool did not appear in vscode.lm.tools', fixtureEchoTool);
}

/** One `echo` call through the editor's MCP client, as a chat participant makes it; resolves with the text returned. */
export async function callEcho(tool: vscode.LanguageModelToolInformation, text: string): Promise<string> {
  const cancellation = new vscode.CancellationTokenSource();
  try {
    return resultText(await vscode.lm.invokeTool(tool.name, { input: { text }, toolInvocationToken: undefined }, cancellation.token));
  } finally {
    cancellation.dispose();
  }
}

/**
 * The tabs opened since `since` tabs, once the runner has finished with each: the editor may hold the callback (and
 * the token) before the runner has seen the tab's last page.
 */
export function popupsSince(since: number): Promise<RunnerState['popups']> {
  return eventually('the runner did not finish with the tabs the editor opened', 10_000, async () => {
    const popups = (await runner.state()).popups.slice(since);
    return popups.every((popup) => popup.finishedAt !== undefined || popup.error !== undefined) ? popups : undefined;
  });
}
