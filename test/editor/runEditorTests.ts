// Runs the in-editor mocha suite inside real VS Code: code-server with the smoke-test driver, Chromium opening
// the workbench with a payload naming the extension under development and the compiled suite, and the editor
// reporting the result through `codeAutomationExit`. Exits with the suite's result; always cleans up.
// Usage: node --import tsx test/editor/runEditorTests.ts [--extension <folder>] [--grep <pattern>] [--timeout <seconds>] [--verbose]
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './chromium';
import { buildEditorSuite } from './buildSuite';
import { freeLoopbackPort, startCodeServer } from './codeServer';
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
}

export interface EditorTestResult {
  readonly exitCode: number;
  /** What the suite's reporter printed. */
  readonly output: string;
}

interface LogFile {
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

/** Mocha's closing counts as the plain line CI reads: `editor: 4 passed, 0 failed, 1 skipped`. */
export function summaryLine(suiteOutput: readonly string[]): string {
  const count = (word: string): number => {
    const match = suiteOutput.map((line) => new RegExp(`^\\s*(\\d+) ${word}\\b`).exec(line)).find(Boolean);
    return match ? Number(match[1]) : 0;
  };
  return `editor: ${count('passing')} passed, ${count('failing')} failed, ${count('pending')} skipped`;
}

function remoteUri(origin: string, file: string): string {
  return `vscode-remote://${new URL(origin).host}${path.resolve(file)}`;
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
  });
  log(`code-server answering on ${origin} after ${seconds(started)}`);
  await using browser = await launchChromium();

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
  const payload = [
    ['extensionDevelopmentPath', remoteUri(origin, extensionDevelopmentPath)],
    ['extensionTestsPath', remoteUri(origin, extensionTestsPath)],
  ];
  const opened = performance.now();
  await page.goto(codeServer.workbenchUrl({ payload: JSON.stringify(payload) }));
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
    return { exitCode: 1, output: suiteLines.join('\n') };
  }
  log(`editor exited with ${outcome.code} ${seconds(opened)} after opening the workbench; ${seconds(started)} since the start`);
  if (outcome.code !== 0) {
    const dir = await saveEditorLogs(outcome.logs, workbenchLines, await page.screenshot().catch(() => undefined));
    log(`editor logs saved in ${path.relative(repoRoot, dir)}`);
  }
  return { exitCode: outcome.code, output: suiteLines.join('\n') };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // Ctrl-C: exit normally so the launchers' exit handlers end code-server's group and remove temp folders.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const { values } = parseArgs({ options: { extension: { type: 'string' }, grep: { type: 'string' }, verbose: { type: 'boolean' }, timeout: { type: 'string' } } });
  const started = performance.now();
  const result = await runEditorTests({
    extensionDevelopmentPath: values.extension,
    testConfig: values.grep ? { grep: values.grep } : {},
    isVerbose: values.verbose,
    timeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
  });
  log(`done in ${seconds(started)} (cleanup included)`);
  console.log(summaryLine(result.output.split('\n')));
  process.exitCode = result.exitCode;
}
