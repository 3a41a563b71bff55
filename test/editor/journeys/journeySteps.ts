// Steps several journeys share: catching the tab the editor opens for the authorization server, with a screenshot
// of each of its pages at the moment the person submits it.
import type { Page } from 'playwright-core';
import type { JourneyEditor } from './journeyEditor';

export interface JourneyContext {
  /** The packaged extension every journey installs. */
  readonly vsix: string;
}

export interface AuthorizationTab {
  readonly page: Page;
  /** The prompts (`login`, `consent`) whose pages were screenshotted as they were submitted. */
  readonly shotsTaken: readonly string[];
}

/** How the tree labels a server added by URL alone: the URL without its scheme. */
export function serverLabel(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

/**
 * Runs `open` (the click that makes the editor open the browser) and returns the new tab. Every form the tab posts
 * is held until a screenshot shows the page as the person submits it: the login page with the name typed in, the
 * consent page with the scopes asked for.
 */
export async function authorizationTab(editor: JourneyEditor, open: () => Promise<void>): Promise<AuthorizationTab> {
  const opened = editor.browser.context.waitForEvent('page', { timeout: 30_000 });
  await open();
  // The editor asks before opening a site outside its trusted domains, as it does for any link.
  const linkProtection = editor.page.locator('.monaco-dialog-box', { hasText: 'open the external website' });
  const asked = await Promise.race([opened.then(() => false), linkProtection.waitFor({ timeout: 30_000 }).then(() => true)]);
  if (asked) {
    await editor.shot('open-external-website');
    await linkProtection.getByRole('button', { name: 'Open', exact: true }).click();
  }
  const page = await opened;
  const shotsTaken: string[] = [];
  await page.route((url) => url.pathname.includes('/interaction/'), async (route) => {
    const request = route.request();
    const isDenial = request.method() === 'GET' && request.url().endsWith('/abort');
    const prompt = isDenial ? 'consent-denied' : new URLSearchParams(request.postData() ?? '').get('prompt');
    if ((request.method() === 'POST' || isDenial) && prompt) {
      await editor.shotWhileNavigating(`authorization-${prompt}`, page);
      shotsTaken.push(prompt);
    }
    await route.continue();
  });
  return { page, shotsTaken };
}

/**
 * "MCP: List Servers" → the server → `action` ("Start Server", "Restart Server"), until the editor's MCP client reports
 * the tools it found; then a screenshot named `shot`.
 */
export async function startServer(editor: JourneyEditor, label: string, shot: string, action = 'Start Server'): Promise<void> {
  const rows = editor.page.locator('.quick-input-widget .monaco-list-row');
  await editor.runCommand('MCP: List Servers');
  await rows.filter({ hasText: label }).first().click({ timeout: 30_000 });
  await rows.filter({ hasText: new RegExp(`^${action}`) }).first().click({ timeout: 10_000 });
  await editor.page.locator('.part.panel .view-lines', { hasText: /Discovered\s+[1-9]\d*\s+tools/ }).waitFor({ timeout: 60_000 });
  await editor.shot(shot);
}
