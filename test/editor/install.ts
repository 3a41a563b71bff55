// Installs, or reuses, what the real-editor tests need: Debian's Chromium (and the Kerberos headers one of
// code-server's native modules builds against), then Node 24 and code-server inside the ignored .vscode-test/ cache;
// and glewlwyd, the authorization server the integration tests run from Debian's package.
// `npm run demo` uses only the second half, which installs no system package, on any OS.
// Idempotent: a warm run only checks versions. Run it directly with `node --import tsx test/editor/install.ts`.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  chromiumPath, codeServerEntry, codeServerHome, codeServerInstallDir, codeServerVersion, nodeBinary, nodeHome,
  nodeInstallDir, nodeVersion,
} from './paths';

// glewlwyd needs one of dbconfig-{mysql,sqlite3,pgsql,no-thanks}; apt would pick MySQL's, and dbconfig would then try
// to set up a database. The tests create their own sqlite database (test/fixtures/glewlwydServer.ts), so: no thanks.
const debianPackages = ['chromium', 'libkrb5-dev', 'glewlwyd', 'dbconfig-no-thanks'];
/** Written last, so a half-finished install (killed, out of disk) is detected and redone from scratch. */
export const completeMarker = '.install-complete.json';

function log(message: string): void {
  console.log(`[install] ${message}`);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function timed(stage: string, step: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await step();
  log(`${stage}: ${seconds(started)}`);
}

function run(command: string, args: string[], options: SpawnOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? code}`));
    });
  });
}

function missingDebianPackages(): string[] {
  return debianPackages.filter((name) => {
    const query = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return query.status !== 0 || !query.stdout.includes('install ok installed');
  });
}

/**
 * glewlwyd's package asks whether to configure a database through dbconfig; its default ("Personalized") fails
 * without one. The tests configure glewlwyd themselves (test/fixtures/glewlwydServer.ts), so the answer is no.
 */
const debconfAnswers = 'glewlwyd glewlwyd/config_type select No configuration\n';

/** The command run as root: CI runs as root on a fresh machine; elsewhere, sudo without a password prompt is the only thing worth trying. */
function asRoot(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? [command, args] : ['sudo', ['-n', command, ...args]];
}

async function ensureDebianPackages(): Promise<void> {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const aptGet = (...args: string[]): Promise<void> =>
    run(...asRoot('apt-get', args), { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  log(`installing Debian packages: ${missing.join(' ')}`);
  const preseed = spawnSync(...asRoot('debconf-set-selections', []), { input: debconfAnswers, encoding: 'utf8' });
  if (preseed.status !== 0) throw new Error(`debconf-set-selections failed: ${preseed.stderr || preseed.error?.message}`);
  await aptGet('update', '-qq');
  await aptGet('install', '-y', '-qq', '--no-install-recommends', ...missing);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function isComplete(dir: string, expected: Record<string, string>): boolean {
  const found = readJson(path.join(dir, completeMarker));
  return JSON.stringify(found) === JSON.stringify(expected);
}

function nodeBinaryVersion(): string | undefined {
  if (!existsSync(nodeBinary)) return undefined;
  return spawnSync(nodeBinary, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/**
 * Installs one npm package into its own folder of the cache. npm 11 runs dependency install scripts only when
 * `allowScripts` names the package, and both of ours need theirs (the `node` package fetches its binary in
 * preinstall; code-server builds VS Code's native modules in postinstall).
 */
export async function installIsolated(dir: string, dependencies: Record<string, string>, allowScripts: Record<string, boolean>, env: NodeJS.ProcessEnv): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true, dependencies, allowScripts }, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev'], { cwd: dir, env });
}

/**
 * The environment without what an outer `npm run` exports: npm reads `npm_config_*` variables as its own
 * configuration, so an inherited `npm_config_user_agent` (naming Node 20) would reach code-server's postinstall
 * check even though npm now runs on Node 24.
 */
export function withoutNpmRunVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^npm_/i.test(name)));
}

/** The environment for npm running on Node 24: Node 24 first on PATH, without an outer `npm run`'s variables. */
export function npmOnNode24Environment(): NodeJS.ProcessEnv {
  return { ...withoutNpmRunVariables(process.env), PATH: `${path.dirname(nodeBinary)}${path.delimiter}${process.env.PATH ?? ''}` };
}

export async function ensureNode(): Promise<void> {
  const expected = { node: nodeVersion };
  if (isComplete(nodeInstallDir, expected) && nodeBinaryVersion() === `v${nodeVersion}`) return;
  log(`installing node@${nodeVersion} into ${path.relative(process.cwd(), nodeInstallDir)}`);
  await installIsolated(nodeInstallDir, { node: nodeVersion }, { [`node@${nodeVersion}`]: true }, withoutNpmRunVariables(process.env));
  const found = nodeBinaryVersion();
  if (found !== `v${nodeVersion}`) throw new Error(`node@${nodeVersion} installed, but ${nodeBinary} reports ${found ?? 'nothing'}`);
  writeFileSync(path.join(nodeInstallDir, completeMarker), JSON.stringify(expected));
}

function codeServerPackageVersion(): string | undefined {
  const manifest = readJson(path.join(codeServerHome, 'package.json')) as { version?: string } | undefined;
  return manifest?.version;
}

/**
 * code-server's `kerberos` module compiles against the system's Kerberos headers on Linux (macOS and Windows have
 * theirs built in). The tests install them with Debian's package; the demo installs no system package, so it says
 * what is missing instead of failing deep inside node-gyp.
 */
function assertKerberosHeaders(): void {
  if (process.platform !== 'linux' || spawnSync('krb5-config', ['--version']).status === 0) return;
  throw new Error('code-server builds against the Kerberos headers, which are missing: install them (Debian and Ubuntu: '
    + 'libkrb5-dev, Fedora: krb5-devel), or install VS Code so that the demo opens it instead');
}

async function ensureCodeServer(): Promise<void> {
  const expected = { codeServer: codeServerVersion, node: nodeVersion };
  if (isComplete(codeServerInstallDir, expected) && codeServerPackageVersion() === codeServerVersion && existsSync(codeServerEntry)) return;
  assertKerberosHeaders();
  log(`installing code-server@${codeServerVersion} into ${path.relative(process.cwd(), codeServerInstallDir)} (several minutes)`);
  // Its postinstall reads the Node major from npm's user agent and compiles native modules with node-gyp, so npm
  // itself must run on Node 24 and node-gyp must find Node 24's headers (the machine's npmrc points elsewhere).
  const env = { ...npmOnNode24Environment(), npm_config_nodedir: nodeHome };
  // argon2 (password hashing, loaded at start) builds or picks its prebuilt binary in its own install script.
  const allowScripts = { [`code-server@${codeServerVersion}`]: true, argon2: true };
  await installIsolated(codeServerInstallDir, { 'code-server': codeServerVersion }, allowScripts, env);
  const found = codeServerPackageVersion();
  if (found !== codeServerVersion) throw new Error(`code-server@${codeServerVersion} installed, but its manifest says ${found ?? 'nothing'}`);
  writeFileSync(path.join(codeServerInstallDir, completeMarker), JSON.stringify(expected));
}

/** Makes sure Node 24 and code-server are ready inside .vscode-test/; seconds when they already are. */
export async function ensureCodeServerToolchain(): Promise<void> {
  const started = performance.now();
  await timed(`node ${nodeVersion}`, ensureNode);
  await timed(`code-server ${codeServerVersion}`, ensureCodeServer);
  log(`ready in ${seconds(started)}: code-server ${codeServerVersion} on node ${nodeVersion}`);
}

/** Makes sure Chromium (the tests' browser), Node 24 and code-server are ready; seconds when they already are. */
export async function ensureEditorToolchain(): Promise<void> {
  await timed('Debian packages', ensureDebianPackages);
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing after installing chromium`);
  await ensureCodeServerToolchain();
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await ensureEditorToolchain();
}
