// Drives the workbench the way a person does, for browser journeys: open it, wait until it is usable, run a
// command from the palette by its title, and keep screenshots of the moments that matter.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { resultsDir } from './paths';

/** Generous: on a loaded machine code-server can take well over Playwright's default 30 s to serve the workbench. */
export const WORKBENCH_LOAD_TIMEOUT_MS = 120_000;

export interface OpenWorkbenchOptions {
  /**
   * Loads this extension folder as under development (no tests run): the journeys' way to use the repository's
   * build without installing it. Needs code-server started with `isTestDriverEnabled`.
   */
  readonly extensionDevelopmentPath?: string;
  readonly timeoutMs?: number;
}

interface SmokeTestDriver {
  whenWorkbenchRestored(): Promise<void>;
}

/** Opens the workbench with the server's workspace folder in a new tab and waits until it is ready. */
export async function openWorkbench(context: BrowserContext, codeServer: CodeServer, options: OpenWorkbenchOptions = {}): Promise<Page> {
  const page = await context.newPage();
  const query: Record<string, string> = {};
  if (options.extensionDevelopmentPath) {
    if (!codeServer.isTestDriverEnabled) throw new Error('extensionDevelopmentPath needs code-server started with isTestDriverEnabled');
    query.payload = JSON.stringify([['extensionDevelopmentPath', codeServer.remoteUri(options.extensionDevelopmentPath)]]);
  }
  await page.goto(codeServer.workbenchUrl(query));
  await waitForWorkbench(page, options.timeoutMs);
  return page;
}

/**
 * Waits for the workbench to be restored: through the smoke-test driver when code-server runs with it
 * (`isTestDriverEnabled`), otherwise until its status bar shows the remote connection.
 */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
  const hasDriver = await page.evaluate(() => 'driver' in window);
  if (hasDriver) {
    await page.evaluate(() => (window as unknown as { driver: SmokeTestDriver }).driver.whenWorkbenchRestored());
  }
  await page.locator('.statusbar-item#status\\.host').waitFor({ timeout: timeoutMs });
}

/**
 * Runs a command through the palette, by the title it shows there (e.g. `MCP Keyring: Add Server…`). The palette
 * lists what is registered when it opens, and extensions register late, so it reopens until the command shows up.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = page.locator('.quick-input-widget .monaco-list-row', {
    has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
  }).first();
  for (;;) {
    await page.keyboard.press('F1');
    await input.waitFor({ timeout: timeoutMs });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: Math.min(2_000, Math.max(1, deadline - Date.now())) });
      await row.click();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw new Error(`no command titled "${title}" in the palette after ${timeoutMs} ms`, { cause: error });
      await page.keyboard.press('Escape');
    }
  }
}

/** Saves a PNG of the page under test/editor/results/<journey>/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, journey: string, name: string): Promise<string> {
  const dir = path.join(resultsDir, journey);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
