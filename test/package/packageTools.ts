// Running the packaging tools (npm, vsce, ovsx) and the packed command line as a person would, from the repository.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../editor/paths';
import { withoutNpmRunVariables } from '../editor/install';

const execFileAsync = promisify(execFile);

export interface ToolRun {
  readonly stdout: string;
  readonly stderr: string;
}

/** Rejects with the command's output when it exits non-zero; a hung tool fails the test instead of holding it. */
export async function run(command: string, args: readonly string[], timeoutMs = 120_000): Promise<ToolRun> {
  // An outer `npm run` exports npm_config_* variables that the npm started here would take as its own settings.
  const env = withoutNpmRunVariables(process.env);
  // Windows runs npm and installed bins through their .cmd shims, which only a shell starts.
  const { stdout, stderr } = await execFileAsync(command, [...args], { cwd: repoRoot, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, shell: process.platform === 'win32' });
  return { stdout, stderr };
}

export function runNpm(args: readonly string[]): Promise<ToolRun> {
  return run('npm', args);
}

/** The files in an npm tarball, sorted, without npm's `package/` folder. */
export async function tarballEntries(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball]);
  return stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, '')).sort();
}
