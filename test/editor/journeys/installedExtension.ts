// MCP Keyring as a person gets it: the packaged .vsix, installed into a running code-server's extensions folder.
// The journeys and the demo run the workbench without the smoke-test driver, because that mode hides every
// notification toast, and the toasts are what a person reads and clicks.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CodeServer } from '../codeServer';
import { codeServerEntry, nodeBinary, repoRoot } from '../paths';

export const vsixPath = path.join(repoRoot, 'out', 'journeys', 'mcp-keyring.vsix');

function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // Windows starts npm through its .cmd shim, which only a shell runs.
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with ${signal ?? code}\n${output}`));
    });
  });
}

/** Packages the repository as `npm run package` does (vsce's prepublish step builds first); returns the .vsix path. */
export async function packageExtension(): Promise<string> {
  await mkdir(path.dirname(vsixPath), { recursive: true });
  await run('npm', ['run', '--silent', 'package', '--', '--out', vsixPath]);
  return vsixPath;
}

/**
 * Installs the .vsix with code-server's own CLI into the running server's extensions folder. The extension host
 * starts when a workbench connects and reads the folder then, so install before opening the workbench.
 */
export async function installExtension(codeServer: CodeServer, vsix: string = vsixPath): Promise<void> {
  const home = path.join(codeServer.runDir, 'home');
  await run(nodeBinary, [
    codeServerEntry,
    '--extensions-dir', codeServer.extensionsDir,
    '--user-data-dir', codeServer.userDataDir,
    '--config', path.join(codeServer.runDir, 'config', 'code-server.yaml'),
    '--install-extension', vsix,
  ], {
    cwd: codeServer.workspaceDir,
    env: { ...process.env, HOME: home, TMPDIR: path.join(codeServer.runDir, 'tmp'), XDG_CONFIG_HOME: path.join(codeServer.runDir, 'config'), XDG_DATA_HOME: path.join(codeServer.runDir, 'share') },
  });
}
