// One person's editor for one journey: code-server with MCP Keyring installed from its .vsix, a fresh Chromium
// profile (SecretStorage lives there), the workbench open, and the few gestures journeys repeat: reading and
// clicking notifications, opening the MCP Keyring view, right-clicking a server, answering a modal dialog.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { launchChromium, type Chromium } from '../chromium';
import { startCodeServer, type CodeServer } from '../codeServer';
import { resultsDir } from '../paths';
import { openWorkbench, runCommand, saveScreenshot } from '../workbench';
import { openKeyringView } from '../keyringView';
import { installExtension } from './installedExtension';

/** Quiet workbench: no welcome page, no chat side bar, no gallery traffic on a closed network. */
export const quietSettings = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'chat.commandCenter.enabled': false,
};

export interface JourneyEditorOptions {
  /** Results go to test/editor/results/journeys/<journey>/NN-<name>.png. */
  readonly journey: string;
  readonly vsix: string;
  /** More user settings (the fixtures' http needs `mcpKeyring.allowInsecureLoopback`). */
  readonly userSettings?: Readonly<Record<string, unknown>>;
}

export class JourneyEditor implements AsyncDisposable {
  private shotCount = 0;
  readonly screenshots: string[] = [];

  private constructor(
    readonly journey: string,
    readonly codeServer: CodeServer,
    readonly browser: Chromium,
    readonly page: Page,
  ) {}

  static async open(options: JourneyEditorOptions): Promise<JourneyEditor> {
    const settings = { ...quietSettings, ...options.userSettings };
    // Screenshots from an earlier run would read as this run's.
    await rm(path.join(resultsDir, 'journeys', options.journey), { recursive: true, force: true });
    const codeServer = await startCodeServer({ userSettings: settings, machineSettings: settings });
    try {
      await installExtension(codeServer, options.vsix);
      const browser = await launchChromium();
      try {
        const page = await openWorkbench(browser.context, codeServer);
        return new JourneyEditor(options.journey, codeServer, browser, page);
      } catch (error) {
        await browser.close();
        throw error;
      }
    } catch (error) {
      await codeServer.stop();
      throw error;
    }
  }

  /** Saves the next numbered screenshot of `page` (the workbench by default). */
  async shot(name: string, page: Page = this.page): Promise<string> {
    this.shotCount += 1;
    const file = await saveScreenshot(page, path.join('journeys', this.journey), `${String(this.shotCount).padStart(2, '0')}-${name}`);
    this.screenshots.push(file);
    return file;
  }

  /**
   * A screenshot of a page whose form submission is on hold: Playwright's own screenshot waits for a new frame,
   * which a page that is navigating away does not paint, so this asks Chromium for the current surface instead.
   */
  async shotWhileNavigating(name: string, page: Page): Promise<string> {
    this.shotCount += 1;
    const dir = path.join(resultsDir, 'journeys', this.journey);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${String(this.shotCount).padStart(2, '0')}-${name}.png`);
    const session = await this.browser.context.newCDPSession(page);
    const { data } = await session.send('Page.captureScreenshot', { format: 'png' });
    // Detaching waits for the navigation on hold; let it finish on its own.
    session.detach().catch(() => undefined);
    await writeFile(file, Buffer.from(data, 'base64'));
    this.screenshots.push(file);
    return file;
  }

  /** Runs the journey's steps; when one fails, the workbench as it was is saved as the last screenshot. */
  async steps<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      await this.shot('failure').catch(() => undefined);
      // The extension's own account of what happened, for the person reading the failure.
      await this.page.keyboard.press('Escape').catch(() => undefined);
      await runCommand(this.page, 'MCP Keyring: Show Log', 5_000).catch(() => undefined);
      await this.page.waitForTimeout(1_000);
      await this.shot('failure-log').catch(() => undefined);
      throw error;
    }
  }

  runCommand(title: string): Promise<void> {
    return runCommand(this.page, title);
  }

  /** The quick input (input box or pick) whose title is `title`, once it shows. */
  async quickInput(title: string | RegExp): Promise<Locator> {
    const widget = this.page.locator('.quick-input-widget', { has: this.page.locator('.quick-input-title', { hasText: title }) });
    await widget.waitFor({ timeout: 30_000 });
    return widget;
  }

  /** A notification toast whose message matches `text`, once it shows. */
  async toast(text: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
    const toast = this.page.locator('.notification-toast', { has: this.page.locator('.notification-list-item-message', { hasText: text }) }).first();
    await toast.waitFor({ timeout: timeoutMs });
    return toast;
  }

  /** The modal dialog, once it shows. */
  async dialog(): Promise<Locator> {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    return dialog;
  }

  /** Opens the MCP Keyring view from its activity bar icon (a click on an already open view would close it). */
  openKeyringView(): Promise<Locator> {
    return openKeyringView(this.page);
  }

  /** Drags the side bar's edge to the right, so a tree item's state is not cut off in screenshots. */
  async widenSideBar(by = 320): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    check(box, 'the side bar is open');
    const edge = box.x + box.width;
    for (const sash of await this.page.locator('.monaco-sash.vertical').all()) {
      const handle = await sash.boundingBox();
      if (!handle || Math.abs(handle.x + handle.width / 2 - edge) > 6 || handle.y > box.y + box.height / 2 || handle.y + handle.height < box.y + box.height / 2) continue;
      const x = handle.x + handle.width / 2;
      const y = box.y + box.height / 2;
      await this.page.mouse.move(x, y);
      await this.page.mouse.down();
      await this.page.mouse.move(x + by, y, { steps: 5 });
      await this.page.mouse.up();
      // Off the sash, which stays highlighted while the pointer rests on it.
      await this.page.mouse.move(x + by + 200, y);
      return;
    }
    throw new Error('found no sash at the side bar\'s edge');
  }

  /** The server's row in the MCP Keyring view. */
  serverRow(label: string): Locator {
    return this.page.locator('.pane-body .monaco-list-row', { has: this.page.locator('.label-name', { hasText: label }) }).first();
  }

  /** The state text next to the server's name (`Signed in as alice · expires in 59 min`). */
  async serverState(label: string): Promise<string> {
    return (await this.serverRow(label).locator('.label-description').innerText()).trim();
  }

  /** Waits until the server's state text matches. */
  async waitForServerState(label: string, state: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.serverState(label).catch(() => '');
      if (state.test(last)) return last;
      await this.page.waitForTimeout(250);
    }
    throw new Error(`the ${label} item says "${last}", not ${state}`);
  }

  /** Right-clicks the server's row and picks `action` from its context menu. */
  async contextAction(label: string, action: string): Promise<void> {
    // On the name: the middle of the row holds the inline actions, which have no context menu of their own.
    await this.serverRow(label).locator('.label-name').click({ button: 'right' });
    // The menu is drawn in a shadow root; role locators reach into it.
    await this.clickMenuItem(this.page.getByRole('menuitem', { name: action, exact: true }));
  }

  /** Picks an item of an open menu (a context menu, the Accounts menu or one of its submenus), once it shows. */
  async clickMenuItem(item: Locator): Promise<void> {
    await item.waitFor({ timeout: 10_000 });
    // A menu item listens for mouse-up only from 100 ms after it renders (VS Code's menu.ts, runOnceToEnableMouseUp:
    // the right-click's own mouse-up must not pick an item). A click inside that window, likely on a loaded machine,
    // is ignored and leaves the menu open; the menu closes before it runs the action, so clicking again is safe.
    for (let attempt = 0; attempt < 3 && (await item.isVisible()); attempt += 1) {
      await item.click();
      await item.waitFor({ state: 'hidden', timeout: 1_000 }).catch(() => undefined);
    }
  }

  close = async (): Promise<void> => {
    await this.browser.close();
    await this.codeServer.stop();
  };

  [Symbol.asyncDispose] = this.close;
}

/** Fails the journey with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
