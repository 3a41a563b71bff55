// The editor soak's third column, the editor's own MCP sign-in, in a workbench that is NOT in extension test mode:
// there the editor refuses every dialog (DialogService.skipDialogs), and its dynamic authentication provider's first
// step is one. The load runs in a small extension under development beside MCP Keyring (bench/editor/
// editorSoakExtension.ts); the runner plays the person as a journey does: it answers the editor's dialogs and quick
// inputs in the workbench, signs in and consents in the tab the editor opens, and stands in for vscode.dev/redirect.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page, Route } from 'playwright-core';
import { extensionHostBundle } from '../../test/editor/buildSuite';
import { launchChromium } from '../../test/editor/chromium';
import { startCodeServer } from '../../test/editor/codeServer';
import { startEditorFixtures, type EditorFixtureOptions } from '../../test/editor/editorFixtures';
import { quietSettings } from '../../test/editor/journeys/journeyEditor';
import { repoRoot } from '../../test/editor/paths';
import { checkEditorMcpLogs, PopupDriver, RunnerControl, type RunnerCheck } from '../../test/editor/runnerChecks';
import type { LogFile } from '../../test/editor/runEditorTests';
import { editorTestConfigVariable } from '../../test/editor/suite/editorTestConfig';
import { waitForWorkbench, WORKBENCH_LOAD_TIMEOUT_MS } from '../../test/editor/workbench';
import { freeLoopbackPort } from '../../test/fixtures/listenOnLoopback';
import { EDITOR_SOAK_RESULT_FILE_KEY } from '../editor/editorSoakParameters';

export interface PlainEditorRun {
  /** The load extension's `BENCH {json}` line, or `ERROR <message>`. */
  readonly output: string;
  /** What the runner answered in the workbench, by kind (the dialog's text with digits as N, and the button). */
  readonly dialogsAnswered: Record<string, number>;
  readonly runnerChecks: readonly RunnerCheck[];
  readonly editorLogs: readonly LogFile[];
}

/**
 * The built-in provider's redirect URI in a browser or remote window (its _createWithUrlHandler; registration also
 * lists loopback URIs, which it uses only when the extension host is local). vscode.dev's page sends the browser on to
 * the URI in `state` (the workbench's URL callback, code-server's /callback route) with the authorization response's
 * other parameters, as VS Code's own callback.html expects them (it merges extra query parameters into the URI it
 * hands the editor). The network here is closed, so the runner answers for it with that redirect.
 */
const VSCODE_DEV_REDIRECT = 'https://vscode.dev/redirect';
/** How long the runner looks for a dialog before checking whether to stop. */
const DIALOG_POLL_MS = 1_000;
/** The buttons a person signing in would press, in order of preference. */
const AFFIRMATIVE = /^(Allow|Trust|Continue|Yes|Open|OK)\b/i;

function log(message: string): void {
  console.log(`[editor builtin] ${message}`);
}

function isVsCodeDevRedirect(url: URL): boolean {
  return `${url.origin}${url.pathname}` === VSCODE_DEV_REDIRECT;
}

/** A page that sends the browser on, as vscode.dev's does (a redirect status from a fulfilled route is not followed). */
function answerAsVsCodeDev(route: Route): Promise<void> {
  const request = new URL(route.request().url());
  const state = request.searchParams.get('state');
  if (!state) return route.fulfill({ status: 400, body: 'no state' });
  const target = new URL(state);
  // The editor wrote `state` with its URI's own encoding (the callback's query escaped once more); read it as an app URI.
  target.search = decodeURIComponent(target.search);
  // Every parameter of the authorization response, `state` first. In the order the authorization server sends them
  // (code first) the editor loses the code: VS Code for the Web's callback page puts the extra parameters before the
  // callback's own, and the provider looks for the code after a `?` or `&` only (microsoft/vscode#312105, "OAuth2
  // redirect fails when code is the first query parameter"); the sign-in then ends with "No authorization code received".
  target.searchParams.append('state', state);
  for (const [name, value] of request.searchParams) if (name !== 'state') target.searchParams.append(name, value);
  log(`vscode.dev/redirect sends the tab on to ${target.origin}${target.pathname}`);
  // JSON-quoted, and `<` escaped so the URL cannot end the script.
  const script = `location.replace(${JSON.stringify(target.href).replace(/</g, '\\u003c')})`;
  return route.fulfill({ status: 200, contentType: 'text/html', body: `<!doctype html><script>${script}</script>` });
}

/** Answers every modal dialog and quick input the editor shows until stopped, counting them by kind. */
class WorkbenchPerson {
  readonly answered: Record<string, number> = {};
  private isStopped = false;
  private readonly running: Promise<void>;

  constructor(private readonly page: Page) {
    this.running = this.loop();
  }

  private count(kind: string): void {
    // Dialog texts name servers and hosts, never a token; the digits (ports, versions) differ from run to run.
    const key = kind.replace(/\d+/g, 'N').replace(/\s+/g, ' ').slice(0, 200);
    this.answered[key] = (this.answered[key] ?? 0) + 1;
    log(`answered: ${key}`);
  }

  private async answerDialog(): Promise<boolean> {
    const dialog = this.page.locator('.monaco-dialog-box').first();
    if (!(await dialog.isVisible().catch(() => false))) return false;
    const message = await dialog.locator('.dialog-message-row').first().innerText().catch(() => '');
    const buttons = dialog.locator('.dialog-buttons .monaco-button');
    const labels = (await buttons.allInnerTexts()).map((label) => label.trim());
    const choice = labels.find((label) => AFFIRMATIVE.test(label)) ?? labels[0];
    if (choice === undefined) return false;
    this.count(`dialog “${message.trim().split('\n')[0]}” → ${choice}`);
    await buttons.nth(labels.indexOf(choice)).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
    return true;
  }

  private async answerQuickInput(): Promise<boolean> {
    const widget = this.page.locator('.quick-input-widget').first();
    if (!(await widget.isVisible().catch(() => false))) return false;
    const title = await widget.locator('.quick-input-title').innerText().catch(() => '');
    const first = await widget.locator('.monaco-list-row').first().innerText().catch(() => '');
    // The first entry: the account the editor offers, or the one way to sign in it lists.
    this.count(`quick input “${title.trim()}” → ${first.split('\n')[0]?.trim() ?? 'Enter'}`);
    await this.page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
    return true;
  }

  private async loop(): Promise<void> {
    const anything = this.page.locator('.monaco-dialog-box, .quick-input-widget:visible').first();
    while (!this.isStopped && !this.page.isClosed()) {
      const shown = await anything.waitFor({ state: 'visible', timeout: DIALOG_POLL_MS }).then(() => true, () => false);
      if (!shown) continue;
      try {
        if (!(await this.answerDialog())) await this.answerQuickInput();
      } catch (error) {
        log(`could not answer the workbench: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    await this.running;
  }
}

/**
 * One folder of extensions under development: MCP Keyring (linked, as in the other columns, so the extension hosts'
 * memory compares) and the load extension, bundled with its manifest. The web workbench keeps one
 * extensionDevelopmentPath of its payload (it reads it into a Map); the scanner takes a folder without a package.json
 * as a folder of extensions.
 */
async function buildDevelopmentExtensions(parent: string): Promise<void> {
  await rm(parent, { recursive: true, force: true });
  const dir = path.join(parent, 'bench-load');
  await mkdir(dir, { recursive: true });
  await symlink(repoRoot, path.join(parent, 'mcp-keyring'), 'dir');
  await build({
    entryPoints: [path.join(repoRoot, 'bench/editor/editorSoakExtension.ts')],
    outfile: path.join(dir, 'extension.cjs'),
    ...extensionHostBundle,
  });
  const manifest = { name: 'bench-load', publisher: 'mcp-keyring', version: '0.0.0', engines: { vscode: '^1.138.0' }, main: './extension.cjs', activationEvents: ['onStartupFinished'] };
  await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
}

/** Waits for the load extension's line; undefined when the deadline passed or code-server ended first. */
async function resultLine(file: string, deadline: number, serverGone: () => boolean): Promise<string | undefined> {
  while (Date.now() < deadline && !serverGone()) {
    if (existsSync(file)) {
      const text = await readFile(file, 'utf8');
      // Written in one call; a line without its end is still being written.
      if (text.endsWith('\n')) return text.trim();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

/**
 * The evidence, for people to read: the workbench's logs (the MCP server's among them) and the extension host's, which
 * stay on the server (the provider's own log, `Auth: <server>`, is one). They name hosts and counts, never a token.
 */
async function saveLogs(dir: string, workbenchLogs: readonly LogFile[], userDataDir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const file of workbenchLogs) await writeFile(path.join(dir, file.relativePath.replace(/[/\\]/g, '_')), file.contents);
  await cp(path.join(userDataDir, 'logs'), path.join(dir, 'extension-host'), { recursive: true }).catch(() => undefined);
}

export interface PlainEditorOptions {
  readonly fixtures: EditorFixtureOptions;
  readonly testConfig: Readonly<Record<string, unknown>>;
  /** Where the load extension is built and writes its figures. */
  readonly scratchDirectory: string;
  readonly timeoutMs: number;
}

export async function runLoadInPlainEditor(options: PlainEditorOptions): Promise<PlainEditorRun> {
  const extensionsDir = path.join(options.scratchDirectory, 'editor-soak-extensions');
  await buildDevelopmentExtensions(extensionsDir);
  const resultFile = path.join(options.scratchDirectory, 'editor-soak-builtin.txt');
  await rm(resultFile, { force: true });

  await using fixtures = await startEditorFixtures(options.fixtures);
  // Filled once the browser is up; the runner's control endpoint asks for them later.
  const live: { popups?: PopupDriver; workbench?: Page } = {};
  await using control = new RunnerControl(fixtures, () => live.popups, () => live.workbench);
  const runnerUrl = await control.start();
  const authorizationOrigins = [new URL(fixtures.authorizationServer.issuer).origin];
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const config = { ...options.testConfig, ...fixtures.config, runnerUrl, codeServerOrigin: origin, [EDITOR_SOAK_RESULT_FILE_KEY]: resultFile };
  await using codeServer = await startCodeServer({
    port,
    // For the `payload` naming the extensions under development; no extensionTestsPath, so dialogs show.
    isTestDriverEnabled: true,
    env: { [editorTestConfigVariable]: JSON.stringify(config) },
    // No server in mcpKeyring.servers: the one server is the workspace's mcp.json entry the load writes.
    userSettings: quietSettings,
    machineSettings: fixtures.machineSettings,
    // Opening the authorization server's page is the sign-in itself; the link-protection modal would stop it.
    extraArgs: authorizationOrigins.flatMap((each) => ['--link-protection-trusted-domains', each]),
  });
  let isServerGone = false;
  void codeServer.whenExited.then(() => (isServerGone = true));
  await using browser = await launchChromium();
  await browser.context.route(isVsCodeDevRedirect, answerAsVsCodeDev);
  const page = await browser.context.newPage();
  live.workbench = page;
  live.popups = new PopupDriver(browser.context, authorizationOrigins, fixtures.config.login, log);
  live.popups.start();
  // Once the sign-in's tab reaches the editor's callback, the person goes back to the editor.
  browser.context.on('page', (tab) => tab.on('load', () => {
    if (tab !== page && new URL(tab.url()).origin === origin) page.bringToFront().catch(() => undefined);
  }));
  const payload = [['extensionDevelopmentPath', codeServer.remoteUri(extensionsDir)]];
  await page.goto(codeServer.workbenchUrl({ payload: JSON.stringify(payload) }), { timeout: WORKBENCH_LOAD_TIMEOUT_MS });
  await waitForWorkbench(page, WORKBENCH_LOAD_TIMEOUT_MS);
  const person = new WorkbenchPerson(page);
  log(`workbench open on ${origin}; the load extension starts with the editor`);
  const line = await resultLine(resultFile, Date.now() + options.timeoutMs, () => isServerGone).finally(() => person.stop());
  const editorLogs = await page.evaluate('window.driver.getLogs()').then((logs) => logs as LogFile[], () => [] as LogFile[]);
  await saveLogs(path.join(options.scratchDirectory, 'editor-soak-builtin-logs'), editorLogs, codeServer.userDataDir);
  if (line === undefined) log(`no figures from the load extension; code-server log:\n${await codeServer.logTail()}`);
  return {
    output: line ?? `ERROR the load extension wrote no figures within ${options.timeoutMs} ms${isServerGone ? ' (code-server exited)' : ''}`,
    dialogsAnswered: person.answered,
    runnerChecks: [checkEditorMcpLogs(editorLogs, false)],
    editorLogs,
  };
}
