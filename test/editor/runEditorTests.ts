// Runs the in-editor mocha suite inside real VS Code: code-server with the smoke-test driver, Chromium opening
// the workbench with a payload naming the extension under development and the compiled suite, and the editor
// reporting the result through `codeAutomationExit`. Exits with the suite's result; always cleans up.
// Usage: node --import tsx test/editor/runEditorTests.ts [--extension <folder>] [--grep <pattern>] [--timeout <seconds>] [--verbose]
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { buildEditorSuite } from './buildSuite';
import { freeLoopbackPort } from '../fixtures/listenOnLoopback';
import { startCodeServer, type CodeServer } from './codeServer';
import { startEditorFixtures, type EditorFixtureOptions } from './editorFixtures';
import { WORKBENCH_LOAD_TIMEOUT_MS } from './workbench';
import { checkEditorMcpLogs, PopupDriver, RunnerControl, scanForLeakedTokens, type RunnerCheck } from './runnerChecks';
import { ensureEditorToolchain } from './install';
import { repoRoot, resultsDir } from './paths';
import { editorTestConfigVariable, mochaLinePrefix, type EditorTestConfig } from './suite/editorTestConfig';

export interface EditorTestOptions {
  /** The extension to load as under development; the repository root by default. */
  readonly extensionDevelopmentPath?: string;
  /** The compiled entry exporting run(); out/editor/index.cjs, freshly built, by default. */
  readonly extensionTestsPath?: string;
  /** More for the suite to read (the test servers' URLs); code-server's origin is added. */
  readonly testConfig?: Readonly<Record<string, unknown>>;
  /** From opening the workbench to the editor's exit call. */
  readonly timeoutMs?: number;
  /** Also print the workbench's own log lines as they come (they are saved to the results folder on failure anyway). */
  readonly isVerbose?: boolean;
  /** More code-server arguments. */
  readonly codeServerArgs?: readonly string[];
  /** The profile's User/settings.json. */
  readonly userSettings?: Readonly<Record<string, unknown>>;
  /** The server's Machine/settings.json, where a remote window reads machine-scoped settings. */
  readonly machineSettings?: Readonly<Record<string, unknown>>;
  /** Called once the workbench tab exists, before it loads: tabs opened after this are the editor's doing. */
  readonly onWorkbenchOpening?: (session: EditorSession) => void;
  /** Called after the suite reported, while the editor still runs, with the logs it handed over: checks only the runner can make. */
  readonly afterSuite?: (session: EditorSession, editorLogs: readonly LogFile[]) => Promise<readonly RunnerCheck[]>;
}

export interface EditorSession {
  readonly codeServer: CodeServer;
  readonly context: BrowserContext;
  readonly workbench: Page;
}

export interface EditorTestResult {
  readonly exitCode: number;
  /** What the suite's reporter printed. */
  readonly output: string;
  /** The runner's own checks after the suite; each failure fails the run. */
  readonly runnerChecks: readonly RunnerCheck[];
  /** The editor's own log files it handed over with its exit call (none when it never called). */
  readonly editorLogs: readonly LogFile[];
}

/** One of the editor's own log files, as the workbench hands them over with its exit call. */
export interface LogFile {
  readonly relativePath: string;
  readonly contents: string;
}

function log(message: string): void {
  console.log(`[editor] ${message}`);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** The editor hands over printf-style arguments unformatted: `['  %d passing (%s)', 4, '324ms']`. */
export function formatAutomationLog(message: unknown): string {
  return (Array.isArray(message) ? format(...(message as unknown[])) : String(message)).trimEnd();
}

/** The suite skips activation when the extension is not built; say so loudly, since the skip is easy to miss. */
function warnIfUnbuilt(extensionDevelopmentPath: string): void {
  const manifest = JSON.parse(readFileSync(path.join(extensionDevelopmentPath, 'package.json'), 'utf8')) as { main?: string };
  if (manifest.main && !existsSync(path.join(extensionDevelopmentPath, manifest.main))) {
    log(`warning: ${manifest.main} is missing in ${extensionDevelopmentPath}; run \`npm run build\` first`);
  }
}

/**
 * Mocha's closing counts plus the runner's own checks, as the plain line CI reads: `editor: 4 passed, 0 failed,
 * 1 skipped`.
 */
export function summaryLine(suiteOutput: readonly string[], runnerChecks: readonly RunnerCheck[] = []): string {
  const count = (word: string): number => {
    const match = suiteOutput.map((line) => new RegExp(`^\\s*(\\d+) ${word}\\b`).exec(line)).find(Boolean);
    return match ? Number(match[1]) : 0;
  };
  const failedChecks = runnerChecks.filter((check) => check.failures.length > 0).length;
  const passed = count('passing') + runnerChecks.length - failedChecks;
  return `editor: ${passed} passed, ${count('failing') + failedChecks} failed, ${count('pending')} skipped`;
}

function printRunnerChecks(checks: readonly RunnerCheck[]): void {
  if (checks.length === 0) return;
  console.log('\n  The runner, after the suite');
  for (const check of checks) {
    console.log(`    ${check.failures.length === 0 ? '✔' : '✗'} ${check.title}`);
    for (const failure of check.failures) console.log(`        ${failure}`);
  }
}

async function saveEditorLogs(files: readonly LogFile[], workbenchLog: readonly string[], screenshot: Buffer | undefined): Promise<string> {
  const dir = path.join(resultsDir, 'editor-logs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'workbench-console.log'), `${workbenchLog.join('\n')}\n`);
  for (const file of files) {
    const target = path.join(dir, path.normalize(file.relativePath).replace(/^(\.\.[/\\])+/, ''));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.contents);
  }
  if (screenshot) await writeFile(path.join(dir, 'workbench.png'), screenshot);
  return dir;
}

export async function runEditorTests(options: EditorTestOptions = {}): Promise<EditorTestResult> {
  const started = performance.now();
  await ensureEditorToolchain();
  const extensionTestsPath = options.extensionTestsPath ?? (await buildEditorSuite());
  const extensionDevelopmentPath = path.resolve(options.extensionDevelopmentPath ?? repoRoot);
  warnIfUnbuilt(extensionDevelopmentPath);

  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const config: EditorTestConfig = { ...options.testConfig, codeServerOrigin: origin };
  await using codeServer = await startCodeServer({
    port,
    isTestDriverEnabled: true,
    env: { [editorTestConfigVariable]: JSON.stringify(config) },
    userSettings: options.userSettings,
    machineSettings: options.machineSettings,
    extraArgs: options.codeServerArgs,
  });
  log(`code-server answering on ${origin} after ${seconds(started)}`);
  await using browser = await launchChromium();
  // As a person's browser would after they allowed it: the editor's clipboard works (Copy Access Token's test reads it).
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });

  const suiteLines: string[] = [];
  const workbenchLines: string[] = [];
  let finish: (result: { code: number; logs: readonly LogFile[] }) => void = () => undefined;
  const exited = new Promise<{ code: number; logs: readonly LogFile[] }>((resolve) => (finish = resolve));
  await browser.context.exposeFunction('codeAutomationLog', (level: string, message: unknown) => {
    const line = formatAutomationLog(message);
    // Formatting trimmed the prefix's own space off the reporter's empty lines.
    if (`${line} `.startsWith(mochaLinePrefix)) {
      const suiteLine = line.slice(mochaLinePrefix.length);
      suiteLines.push(suiteLine);
      console.log(suiteLine);
    } else {
      workbenchLines.push(`[${level}] ${line}`);
      if (options.isVerbose) console.error(`[workbench] [${level}] ${line}`);
    }
  });
  await browser.context.exposeFunction('codeAutomationExit', (code: number, logs?: readonly LogFile[]) => {
    finish({ code: Number(code), logs: logs ?? [] });
  });

  const page = await browser.context.newPage();
  const session: EditorSession = { codeServer, context: browser.context, workbench: page };
  options.onWorkbenchOpening?.(session);
  const payload = [
    ['extensionDevelopmentPath', codeServer.remoteUri(extensionDevelopmentPath)],
    ['extensionTestsPath', codeServer.remoteUri(extensionTestsPath)],
  ];
  const opened = performance.now();
  await page.goto(codeServer.workbenchUrl({ payload: JSON.stringify(payload) }), { timeout: WORKBENCH_LOAD_TIMEOUT_MS });
  log(`workbench opened with ${path.relative(repoRoot, extensionTestsPath)} testing ${extensionDevelopmentPath}`);

  const timeoutMs = options.timeoutMs ?? 300_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), timeoutMs)));
  const crashed = new Promise<'page crashed'>((resolve) => page.once('crash', () => resolve('page crashed')));
  const serverGone = codeServer.whenExited.then(() => 'code-server exited' as const);
  const outcome = await Promise.race([exited, timedOut, crashed, serverGone]).finally(() => clearTimeout(timer));

  if (typeof outcome === 'string') {
    const screenshot = await page.screenshot().catch(() => undefined);
    const dir = await saveEditorLogs([], workbenchLines, screenshot);
    log(`no result from the editor (${outcome}) ${seconds(opened)} after opening the workbench; logs in ${path.relative(repoRoot, dir)}`);
    log(`code-server log:\n${await codeServer.logTail()}`);
    return { exitCode: 1, output: suiteLines.join('\n'), runnerChecks: [], editorLogs: [] };
  }
  log(`editor exited with ${outcome.code} ${seconds(opened)} after opening the workbench; ${seconds(started)} since the start`);
  if (outcome.code !== 0) {
    const dir = await saveEditorLogs(outcome.logs, workbenchLines, await page.screenshot().catch(() => undefined));
    // The extension host's own logs (the extension's channel among them) stay in the profile, which is deleted.
    await cp(path.join(codeServer.userDataDir, 'logs'), path.join(dir, 'profile-logs'), { recursive: true }).catch(() => undefined);
    log(`editor logs saved in ${path.relative(repoRoot, dir)}`);
  }
  const checksStarted = performance.now();
  const runnerChecks = await (options.afterSuite?.(session, outcome.logs) ?? Promise.resolve([])).catch((error: unknown) => [
    { title: 'the runner checks after the suite', failures: [(error as Error).stack ?? String(error)] },
  ]);
  if (runnerChecks.length > 0) log(`runner checks took ${seconds(checksStarted)}`);
  const exitCode = outcome.code !== 0 || runnerChecks.some((check) => check.failures.length > 0) ? 1 : 0;
  return { exitCode, output: suiteLines.join('\n'), runnerChecks, editorLogs: outcome.logs };
}

export interface FixtureSuiteOptions {
  /** How the fixture servers issue tokens. */
  readonly fixtures: EditorFixtureOptions;
  readonly extensionDevelopmentPath?: string;
  /** The compiled entry exporting run(); the whole editor suite, freshly built, by default. */
  readonly extensionTestsPath?: string;
  /** Only tests whose full title matches run. */
  readonly grep?: string;
  /** More for the suite to read, beside the fixtures' URLs and the runner's. */
  readonly testConfig?: Readonly<Record<string, unknown>>;
  readonly timeoutMs?: number;
  readonly isVerbose?: boolean;
  /** Replaces the fixtures' user settings (which name the fixture servers in `mcpKeyring.servers`). */
  readonly userSettings?: Readonly<Record<string, unknown>>;
}

/**
 * Runs an in-editor suite against the fixture servers with the runner playing the person: the authorization server
 * and MCP servers, the control endpoint the suite asks about them, the driver of the tabs the editor opens, and
 * afterwards the scans for leaked tokens and for 401s in the editor's MCP logs.
 */
export async function runEditorSuiteWithFixtures(options: FixtureSuiteOptions): Promise<EditorTestResult> {
  await using fixtures = await startEditorFixtures(options.fixtures);
  let popups: PopupDriver | undefined;
  let workbench: Page | undefined;
  await using control = new RunnerControl(fixtures, () => popups, () => workbench);
  const runnerUrl = await control.start();
  const authorizationOrigins = [new URL(fixtures.authorizationServer.issuer).origin, fixtures.betterAuthServer.origin];
  // Awaited here, not returned: the fixtures and the runner are disposed when this function returns.
  return await runEditorTests({
    extensionDevelopmentPath: options.extensionDevelopmentPath,
    extensionTestsPath: options.extensionTestsPath,
    testConfig: { ...options.testConfig, ...fixtures.config, runnerUrl, ...(options.grep ? { grep: options.grep } : {}) },
    userSettings: options.userSettings ?? fixtures.userSettings,
    machineSettings: fixtures.machineSettings,
    // Opening the authorization server's pages is the sign-in itself; the link-protection modal would stop it.
    codeServerArgs: authorizationOrigins.flatMap((origin) => ['--link-protection-trusted-domains', origin]),
    isVerbose: options.isVerbose,
    timeoutMs: options.timeoutMs,
    onWorkbenchOpening: (session) => {
      workbench = session.workbench;
      popups = new PopupDriver(session.context, authorizationOrigins, fixtures.config.login, log);
      popups.start();
    },
    afterSuite: async (session, editorLogs) => [
      ...await scanForLeakedTokens({
        tokens: [fixtures.issuedTokens, fixtures.betterAuthIssuedTokens].flatMap((issued) => [...issued.accessTokens, ...issued.refreshTokens]),
        staticKeys: [fixtures.bearerServer.secret, fixtures.apiKeyServer.secret, fixtures.machineClientSecret],
        userDataDir: session.codeServer.userDataDir,
        workbench: session.workbench,
        isFiltered: options.grep !== undefined,
      }),
      checkEditorMcpLogs(editorLogs, options.grep !== undefined),
    ],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // Ctrl-C: exit normally so the launchers' exit handlers end code-server's group and remove temp folders.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const { values } = parseArgs({ options: { extension: { type: 'string' }, grep: { type: 'string' }, verbose: { type: 'boolean' }, timeout: { type: 'string' } } });
  const started = performance.now();
  const result = await runEditorSuiteWithFixtures({
    // Short-lived opaque tokens: refreshes happen within the run, and revoking a grant ends its access tokens too.
    fixtures: { accessTokenTtlSeconds: 10, accessTokenFormat: 'opaque' },
    extensionDevelopmentPath: values.extension,
    grep: values.grep,
    isVerbose: values.verbose,
    timeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
  });
  printRunnerChecks(result.runnerChecks);
  log(`done in ${seconds(started)} (cleanup included)`);
  console.log(summaryLine(result.output.split('\n'), result.runnerChecks));
  process.exitCode = result.exitCode;
}
