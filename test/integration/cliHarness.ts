// Runs the command line in-process the way a person would use it: a private store folder, and a scripted person
// at the browser. Keeps everything the command printed so tests can check outputs and look for leaked secrets.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/runCli';
import { createTestBrowser, type TestBrowser, type TestBrowserOptions } from '../fixtures/testBrowser';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliHarness {
  readonly storeDirectory: string;
  readonly browser: TestBrowser;
  /** How many times the command line asked for a browser. */
  readonly browserOpens: number;
  /** The URLs the command line asked the browser to open, in order (authorization requests, with their query). */
  readonly openedUrls: readonly string[];
  /** Runs with a 20 s `--timeout` unless the arguments name one. */
  run(...args: string[]): Promise<CliRun>;
  /** Everything printed by every run so far, stdout and stderr. */
  readonly transcript: string;
  /** The text of every file in the store. */
  storeContents(): Promise<string>;
  dispose(): Promise<void>;
}

/** `browser` replaces the scripted HTML browser, e.g. with one in Chromium for sign-in pages written in JavaScript. */
export async function createCliHarness(browserOptions: TestBrowserOptions = {}, env: NodeJS.ProcessEnv = {}, browser: TestBrowser = createTestBrowser(browserOptions)): Promise<CliHarness> {
  const storeDirectory = await mkdtemp(join(tmpdir(), 'mcp-keyring-test-'));
  let transcript = '';
  const openedUrls: string[] = [];
  return {
    storeDirectory,
    browser,
    get browserOpens() {
      return openedUrls.length;
    },
    openedUrls,
    get transcript() {
      return transcript;
    },
    async run(...args) {
      let stdout = '';
      let stderr = '';
      const timeout = args.includes('--timeout') ? [] : ['--timeout', '20'];
      const code = await runCli([...args, '--store', storeDirectory, ...timeout], {
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        env,
        openUrl: (url) => {
          openedUrls.push(url);
          return browser.open(url);
        },
      });
      transcript += stdout + stderr;
      return { code, stdout, stderr };
    },
    async storeContents() {
      const files = await readdir(storeDirectory);
      const texts = await Promise.all(files.map((file) => readFile(join(storeDirectory, file), 'utf8')));
      return texts.join('\n');
    },
    dispose: () => rm(storeDirectory, { recursive: true, force: true }),
  };
}
