// The MCP Keyring view as a person sees it in the workbench: opening it, expanding every row, reading its rows, a
// row's hover, the view's badge and the status bar. Shared by the in-editor suite's runner and the journeys.
import type { Locator, Page } from 'playwright-core';

export interface ViewRow {
  /** 1 for a server, 2 for an account, 3 for what is stored about it. */
  readonly level: number;
  readonly label: string;
  readonly description: string;
}

export interface HoverReading {
  readonly text: string;
  /** Elements the hover drew from markup: links, emphasis, images, code. None for plain text. */
  readonly markupElements: number;
}

function activityIcon(page: Page): Locator {
  return page.locator('.activitybar .action-item', { has: page.locator('.action-label[aria-label^="MCP Keyring"]') });
}

function viewPane(page: Page): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header[aria-label^="Servers"]') });
}

/** Opens the view from its activity bar icon (a click on an already open view would close it). */
export async function openKeyringView(page: Page): Promise<Locator> {
  const icon = activityIcon(page);
  if ((await icon.getAttribute('class'))?.includes('checked') !== true) await icon.click();
  const view = viewPane(page);
  await view.locator('.monaco-list').first().waitFor({ timeout: 30_000 });
  return view;
}

/** Expands rows until none is left collapsed: servers to accounts, accounts to what is stored. */
export async function expandAll(page: Page, timeoutMs = 20_000): Promise<void> {
  const view = viewPane(page);
  await view.locator('.monaco-list-row').first().waitFor({ timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const collapsed = view.locator('.monaco-list-row[aria-expanded="false"]');
    if ((await collapsed.count()) === 0) return;
    await collapsed.first().locator('.monaco-tl-twistie').click();
    await page.waitForTimeout(150);
  }
  throw new Error(`rows of the MCP Keyring view were still collapsed after ${timeoutMs} ms`);
}

export async function viewRows(page: Page): Promise<ViewRow[]> {
  const rows = await viewPane(page).locator('.monaco-list-row').all();
  return Promise.all(rows.map(async (row) => ({
    level: Number(await row.getAttribute('aria-level')),
    label: (await row.locator('.label-name').innerText()).trim(),
    description: (await row.locator('.label-description').innerText().catch(() => '')).trim(),
  })));
}

/** The row whose name is exactly `label` (a server's label, an account, a fact's name). */
export function viewRow(page: Page, label: string): Locator {
  return viewPane(page).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();
}

/**
 * Rests the pointer on the row's name until its hover shows, and reads it. A redraw of the row (a refresh of a
 * short-lived token, as in the suite's fixtures) closes a hover before it shows: the pointer then leaves and rests
 * again, as a person would.
 */
export async function readHover(page: Page, label: string, timeoutMs = 30_000): Promise<HoverReading> {
  const hover = page.locator('.workbench-hover, .monaco-hover').filter({ visible: true }).last();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await viewRow(page, label).locator('.label-name').hover();
    const shown = await hover.waitFor({ timeout: 4_000 }).then(() => true, () => false);
    if (shown) break;
    if (Date.now() > deadline) throw new Error(`no hover showed on the row ${label} within ${timeoutMs} ms`);
    await page.mouse.move(0, 0);
  }
  return {
    text: (await hover.innerText()).trim(),
    markupElements: await hover.locator('a, strong, em, img, code').count(),
  };
}

/** The number on the view's activity bar icon; undefined when it has none. */
export async function viewBadge(page: Page): Promise<string | undefined> {
  const badge = activityIcon(page).locator('.badge-content');
  if (!(await badge.isVisible())) return undefined;
  return (await badge.innerText()).trim();
}

/** The texts of the status bar's items. */
export async function statusBarTexts(page: Page): Promise<string[]> {
  return (await page.locator('.part.statusbar .statusbar-item').allInnerTexts()).map((text) => text.trim()).filter(Boolean);
}

/** Clicks the status bar item whose text contains `text`. */
export async function clickStatusBarItem(page: Page, text: string): Promise<void> {
  await page.locator('.part.statusbar .statusbar-item', { hasText: text }).first().locator('a, .statusbar-item-label').first().click();
}
