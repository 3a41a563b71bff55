// The person in front of the workbench for the editor's own MCP sign-in (the bench's anchor): answers every modal
// dialog the workbench shows by accepting it, and counts them with what they said, since each is a prompt a person
// would have had to answer. Also stands in for https://vscode.dev/redirect, which the editor's dynamic
// authentication provider registers as its redirect URI and which cannot be reached from here.
import type { BrowserContext, Page } from 'playwright-core';

/** A dialog the workbench showed and the runner answered. */
export interface AnsweredDialog {
  readonly at: number;
  /** The dialog's message, shortened; it names servers and hosts, never a token. */
  readonly message: string;
  readonly button: string;
}

/** Buttons that go on with what the editor asked, in the order the runner prefers them. */
const ACCEPTING = /^(allow|trust|open|continue|yes|sign in|ok)\b/i;
const POLL_MS = 250;
const REDIRECT_PAGE = 'https://vscode.dev/redirect';

export class DialogAnswerer {
  readonly answered: AnsweredDialog[] = [];
  private timer: NodeJS.Timeout | undefined;
  private isBusy = false;

  constructor(private readonly workbench: Page, private readonly log: (message: string) => void) {}

  start(): void {
    this.timer = setInterval(() => void this.answerOne(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async answerOne(): Promise<void> {
    if (this.isBusy || this.workbench.isClosed()) return;
    this.isBusy = true;
    try {
      const dialog = this.workbench.locator('.monaco-dialog-box').first();
      if (!(await dialog.isVisible())) return;
      const message = (await dialog.locator('.dialog-message-text, .dialog-message').first().innerText({ timeout: 1_000 }).catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
      const buttons = dialog.locator('.dialog-buttons .monaco-button');
      const labels = (await buttons.allInnerTexts()).map((label) => label.trim());
      const index = Math.max(0, labels.findIndex((label) => ACCEPTING.test(label)));
      await buttons.nth(index).click({ timeout: 2_000 });
      this.answered.push({ at: Date.now(), message, button: labels[index] ?? '' });
      this.log(`answered a workbench dialog with "${labels[index]}": ${message}`);
    } catch {
      // The dialog went away meanwhile; the next poll looks again.
    } finally {
      this.isBusy = false;
    }
  }
}

/**
 * What vscode.dev/redirect does for the editor's dynamic authentication provider: the provider puts its own callback
 * URI (code-server's /callback URL, from `createAppUri`) in `state` and registers vscode.dev/redirect as the redirect
 * URI; the page sends the browser on to that URI with the authorization response's other parameters added (VS Code's
 * DynamicAuthProvider reads `code` from the URI it receives). Recreated here from that contract, as the page is not
 * reachable offline.
 */
export async function emulateVscodeDevRedirect(context: BrowserContext): Promise<void> {
  await context.route(`${REDIRECT_PAGE}**`, async (route) => {
    const url = new URL(route.request().url());
    const state = url.searchParams.get('state');
    if (!state || !URL.canParse(state)) return route.fulfill({ status: 400, body: 'no state' });
    const target = new URL(state);
    for (const [name, value] of url.searchParams) if (name !== 'state') target.searchParams.append(name, value);
    await route.fulfill({ status: 302, headers: { location: target.href } });
  });
}
