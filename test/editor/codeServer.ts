// Starts code-server (VS Code 1.139 in a browser) on a free loopback port with a throwaway profile, and stops it
// with every helper process it started. Everything it writes lives in one short per-run folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { codeServerEntry, nodeBinary } from './paths';
import { freeLoopbackPort } from '../fixtures/listenOnLoopback';

export interface CodeServerOptions {
  /** A loopback port chosen beforehand (see freeLoopbackPort in test/fixtures/listenOnLoopback.ts), when the caller must know it before the start. */
  readonly port?: number;
  /**
   * Adds `--vscode-option enable-smoke-test-driver`. A built workbench reads the `payload` query parameter
   * (extensionDevelopmentPath, extensionTestsPath) only then, and exposes `window.driver`.
   */
  readonly isTestDriverEnabled?: boolean;
  /** Extra environment for code-server; its extension host inherits it. */
  readonly env?: Readonly<Record<string, string>>;
  /** More code-server arguments, e.g. `--install-extension`. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for code-server to answer; a cold start takes a few seconds. */
  readonly startTimeoutMs?: number;
  /** The profile's user settings (User/settings.json). */
  readonly userSettings?: Readonly<Record<string, unknown>>;
  /**
   * The server's own settings (Machine/settings.json). A remote window, which code-server's always is, takes
   * machine-scoped settings (mcpKeyring.allowInsecureLoopback) from here only: from the user settings it drops them,
   * at the latest when the configuration is next re-read.
   */
  readonly machineSettings?: Readonly<Record<string, unknown>>;
}

export interface CodeServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Started with the smoke-test driver, without which the workbench ignores the `payload` query parameter. */
  readonly isTestDriverEnabled: boolean;
  /** The per-run folder: profile, extensions, HOME, XDG folders, TMPDIR, a workspace, the log. Removed by stop(). */
  readonly runDir: string;
  /** An empty folder to open as the workspace. */
  readonly workspaceDir: string;
  readonly extensionsDir: string;
  readonly userDataDir: string;
  readonly logFile: string;
  /** The workbench URL with a folder open, plus any extra query parameters. */
  workbenchUrl(query?: Readonly<Record<string, string>>): string;
  /** A folder or file of this machine as the workbench names it on this server (`payload` entries). */
  remoteUri(file: string): string;
  /** Settles when code-server exits, whoever ended it. */
  readonly whenExited: Promise<void>;
  /** The last lines code-server printed, for failure messages. */
  logTail(lines?: number): Promise<string>;
  /** Ends code-server's whole process group and removes the run folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Variables that would change what code-server does or leak the calling editor's session into the test one. */
function isInheritedVariableUnwanted(name: string): boolean {
  return /^(VSCODE_|CODE_SERVER_|CS_|ELECTRON_)/.test(name) || ['PASSWORD', 'HASHED_PASSWORD', 'GITHUB_TOKEN', 'NODE_OPTIONS'].includes(name);
}

async function makeRunDir(): Promise<string> {
  // Short on purpose: TMPDIR below holds unix sockets, whose paths may not exceed 107 bytes.
  return mkdtemp('/tmp/mkr-');
}

async function waitUntilAnswering(origin: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`code-server exited early (${child.signalCode ?? child.exitCode})`);
    try {
      const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`code-server did not answer on ${origin} within ${timeoutMs} ms`);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  const runDir = await makeRunDir();
  const dir = (name: string): string => path.join(runDir, name);
  const folders = ['home', 'tmp', 'workspace', 'data', 'extensions', 'config', 'cache', 'share', 'state', 'runtime'];
  await Promise.all(folders.map((name) => mkdir(dir(name), { recursive: true })));
  await chmod(dir('runtime'), 0o700);
  for (const [folder, settings] of [['User', options.userSettings], ['Machine', options.machineSettings]] as const) {
    if (!settings) continue;
    await mkdir(path.join(dir('data'), folder), { recursive: true });
    await writeFile(path.join(dir('data'), folder, 'settings.json'), JSON.stringify(settings, null, 2));
  }

  const port = options.port ?? (await freeLoopbackPort());
  const origin = `http://127.0.0.1:${port}`;
  const logFile = dir('code-server.log');
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !isInheritedVariableUnwanted(name)));
  const env = {
    ...inherited,
    HOME: dir('home'),
    TMPDIR: dir('tmp'),
    XDG_CONFIG_HOME: dir('config'),
    XDG_CACHE_HOME: dir('cache'),
    XDG_DATA_HOME: dir('share'),
    XDG_STATE_HOME: dir('state'),
    XDG_RUNTIME_DIR: dir('runtime'),
    ...options.env,
  };
  const args = [
    codeServerEntry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--reconnection-grace-time', '5',
    '--user-data-dir', dir('data'),
    '--extensions-dir', dir('extensions'),
    '--config', dir('config/code-server.yaml'),
    ...(options.isTestDriverEnabled ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(options.extraArgs ?? []),
    dir('workspace'),
  ];
  const log = createWriteStream(logFile);
  // Its own process group: code-server forks a file watcher, a pty host and extension hosts, all ended together.
  const child = spawn(nodeBinary, args, { cwd: dir('workspace'), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const whenExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A runner stopped by Ctrl-C never reaches stop(); 'exit' handlers still run, synchronously.
  const stopOnExit = (): void => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    rmSync(runDir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);

  let isStopped = false;
  const stop = async (): Promise<void> => {
    if (isStopped) return;
    isStopped = true;
    process.off('exit', stopOnExit);
    if (child.pid !== undefined) {
      signalGroup(child.pid, 'SIGTERM');
      if (!(await exited(child, 5_000))) signalGroup(child.pid, 'SIGKILL');
      // Helpers that outlived the server still belong to its group.
      signalGroup(child.pid, 'SIGKILL');
      await exited(child, 2_000);
    }
    log.end();
    await rm(runDir, { recursive: true, force: true, maxRetries: 3 });
  };

  const logTail = async (lines = 40): Promise<string> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  };

  try {
    await waitUntilAnswering(origin, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    const tail = await logTail();
    await stop();
    throw new Error(`${(error as Error).message}\n--- code-server log ---\n${tail}`, { cause: error });
  }

  return {
    origin,
    port,
    isTestDriverEnabled: options.isTestDriverEnabled ?? false,
    whenExited,
    runDir,
    workspaceDir: dir('workspace'),
    extensionsDir: dir('extensions'),
    userDataDir: dir('data'),
    logFile,
    workbenchUrl: (query = {}) => {
      const url = new URL(origin);
      url.searchParams.set('folder', dir('workspace'));
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
      return url.href;
    },
    remoteUri: (file) => `vscode-remote://${new URL(origin).host}${path.resolve(file)}`,
    logTail,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
