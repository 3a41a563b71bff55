// Runs the in-editor suite in desktop VS Code through @vscode/test-electron, against the same fixture servers and
// runner as the code-server run. The runner has no browser here (the editor opens sign-in pages in the system
// browser), so the suite skips what needs the person and says so (suite/desktop.ts). Needs a VS Code download from
// update.code.visualstudio.com or an installed VS Code 1.139+; exits with the suite's result.
// Usage: node --import tsx test/editor/desktop/runDesktopTests.ts [--vscode <version>|--vscode-executable <path>] [--grep <pattern>]
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildEditorSuite } from '../buildSuite';
import { startEditorFixtures } from '../editorFixtures';
import { desktopCacheDir, desktopVsCodeVersion, repoRoot } from '../paths';
import { RunnerControl } from '../runnerChecks';
import { editorTestConfigVariable, type EditorTestConfig } from '../suite/editorTestConfig';

function log(message: string): void {
  console.log(`[desktop] ${message}`);
}

/** A throwaway profile: settings naming the fixtures, and no extensions but the one under development. */
async function createProfile(settings: Readonly<Record<string, unknown>>): Promise<{ dir: string; launchArgs: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-keyring-desktop-'));
  const workspace = path.join(dir, 'workspace');
  await mkdir(path.join(dir, 'user-data', 'User'), { recursive: true });
  await mkdir(workspace);
  await writeFile(path.join(dir, 'user-data', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // In the `=` form, or test-electron adds profile folders of its own inside .vscode-test/. It adds the other
  // switches itself (no workspace trust, welcome page, release notes or updates).
  const launchArgs = [workspace, `--user-data-dir=${path.join(dir, 'user-data')}`, `--extensions-dir=${path.join(dir, 'extensions')}`, '--disable-extensions'];
  return { dir, launchArgs };
}

/** The download is the step that fails on a machine without access to Microsoft's servers; name the way around it. */
function explainLaunchFailure(error: unknown, executable: string | undefined, version: string): string {
  const reason = error instanceof Error ? error.message : String(error);
  if (executable) return `VS Code at ${executable} could not be started: ${reason}`;
  return `could not download or start VS Code ${version} (${reason}); on a machine without access to update.code.visualstudio.com, `
    + 'pass --vscode-executable <path to an installed VS Code 1.139 or later>';
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { vscode: { type: 'string' }, 'vscode-executable': { type: 'string' }, grep: { type: 'string' } } });
  const executable = values['vscode-executable'] && path.resolve(values['vscode-executable']);
  const version = values.vscode ?? desktopVsCodeVersion;
  if (executable && !existsSync(executable)) {
    log(`no VS Code at ${executable}`);
    return 2;
  }
  const extensionTestsPath = await buildEditorSuite();
  // As in the code-server run: short-lived opaque tokens, so refreshes and revocation show within a run.
  await using fixtures = await startEditorFixtures({ accessTokenTtlSeconds: 10, accessTokenFormat: 'opaque' });
  // No browser and no workbench page: the runner only reports what the fixture servers saw.
  await using control = new RunnerControl(fixtures, () => undefined, () => undefined);
  const runnerUrl = await control.start();
  const config: EditorTestConfig = { ...fixtures.config, runnerUrl, editorHost: 'desktop', ...(values.grep ? { grep: values.grep } : {}) };
  // A local window reads machine-scoped settings (allowInsecureLoopback) from the user settings.
  const profile = await createProfile({ ...fixtures.userSettings, ...fixtures.machineSettings });
  try {
    log(executable ? `running the suite in ${executable}` : `running the suite in VS Code ${version} (cached in ${path.relative(repoRoot, desktopCacheDir)}/)`);
    await runTests({
      ...(executable ? { vscodeExecutablePath: executable } : { version, cachePath: desktopCacheDir }),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      extensionTestsEnv: { [editorTestConfigVariable]: JSON.stringify(config) },
      launchArgs: profile.launchArgs,
    });
    return 0;
  } catch (error) {
    // test-electron rejects with this when VS Code ran and exited non-zero; anything else happened before the launch.
    if (error instanceof TestRunFailedError) log(`VS Code exited with ${error.code ?? error.signal}: failed tests, or an editor that could not start (its output is above)`);
    else log(explainLaunchFailure(error, executable, version));
    return 1;
  } finally {
    await rm(profile.dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
