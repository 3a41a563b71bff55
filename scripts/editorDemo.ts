// `npm run demo` in the editor: the demo authorization server and MCP server, then the person's own VS Code (the
// `code` command) when it is installed, else code-server (VS Code 1.139 in the browser, installed into .vscode-test/
// on first use), with MCP Keyring installed from its .vsix and the demo server already added. Runs until Ctrl-C, or
// until the VS Code window closes, then stops everything it started. Installs no system package.
// Usage: node --import tsx scripts/editorDemo.ts [--vsix <file>] [--port <port>]
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCodeServer } from '../test/editor/codeServer';
import { ensureCodeServerToolchain } from '../test/editor/install';
import { installExtension, packageExtension } from '../test/editor/journeys/installedExtension';
import { repoRoot } from '../test/editor/paths';
import { chooseDemoEditor, demoProfileDirs, vscodeDemoArgs } from './demoEditor';
import { describeDemoServers, startDemoServers, stopOnSignal, writeUserSettings, type DemoServers } from './demoServers';

const { values } = parseArgs({ options: { vsix: { type: 'string' }, port: { type: 'string' } } });
const isFile = (file: string): boolean => statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
const editor = chooseDemoEditor({ os: process.platform, env: process.env, isFile });
if (editor.kind === 'codeServer') await ensureCodeServerToolchain();
const vsix = values.vsix ? path.resolve(values.vsix) : await packageExtension();
const demo = await startDemoServers();
if (editor.kind === 'vscode') await runInVsCode(editor.command, demo);
else await runInCodeServer(demo);

/** Runs a `code` command; Windows starts code.cmd, which only a shell runs, so there every word is quoted. */
function code(command: string, args: readonly string[]): ReturnType<typeof spawn> {
  if (process.platform !== 'win32') return spawn(command, args, { stdio: 'inherit' });
  const quote = (word: string): string => `"${word}"`;
  return spawn(quote(command), args.map(quote), { stdio: 'inherit', shell: true });
}

async function runInVsCode(command: string, { servers, settings }: DemoServers): Promise<void> {
  // Kept between runs (ignored by git) so VS Code's first-start work happens once; the settings are rewritten
  // every run, since the servers' ports change.
  const profileDir = path.join(repoRoot, '.tmp', 'demo-vscode');
  const { userDataDir, workspaceDir } = demoProfileDirs(profileDir, process.platform);
  await writeUserSettings(userDataDir, settings);
  await mkdir(workspaceDir, { recursive: true });
  const args = vscodeDemoArgs(profileDir, vsix, process.platform);
  const installed = await new Promise<number | null>((resolve) => code(command, args.install).on('exit', resolve).on('error', () => resolve(null)));
  if (installed !== 0) throw new Error(`${command} could not install ${vsix} (exit ${installed})`);
  const stop = async (): Promise<void> => {
    await servers.close();
    process.exit(0);
  };
  stopOnSignal(stop);
  code(command, args.open).on('exit', () => void stop());
  console.log(`
${describeDemoServers(demo)}

VS Code (${command}) opens in a window of its own, with a throwaway profile in ${path.relative(repoRoot, profileDir)}/.
In the MCP Keyring view (key icon in the activity bar), sign in to "Demo MCP server".
Close that window or press Ctrl-C to stop.`);
}

async function runInCodeServer({ servers, settings }: DemoServers): Promise<void> {
  // A remote window reads machine-scoped settings (allowInsecureLoopback) from the server's own settings only.
  const codeServer = await startCodeServer({ port: values.port ? Number(values.port) : undefined, userSettings: settings, machineSettings: settings });
  await installExtension(codeServer, vsix);
  let isStopping = false;
  const stop = async (): Promise<void> => {
    if (isStopping) return;
    isStopping = true;
    console.log('\nStopping…');
    await codeServer.stop();
    await servers.close();
    process.exit(0);
  };
  stopOnSignal(stop);
  void codeServer.whenExited.then(() => {
    if (!isStopping) {
      console.error('code-server exited on its own; stopping the demo.');
      void stop();
    }
  });
  console.log(`
${describeDemoServers(demo)}

Open the editor:           ${codeServer.workbenchUrl()}

In the MCP Keyring view (key icon in the activity bar), sign in to "Demo MCP server".
Press Ctrl-C to stop.`);
}
