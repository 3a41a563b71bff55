// The last-resort redirect: the browser lands on a loopback URL nothing listens on, and the person pastes that
// final URL (from the address bar) into the editor.
import * as vscode from 'vscode';
import { KeyringError } from '../core/errors';
import type { RedirectReceiver } from '../core/ports';

/** RFC 8252 loopback form; no listener on purpose, so the browser shows the URL instead of a page. */
const PASTE_REDIRECT_URI = 'http://127.0.0.1:1/callback';

export class PasteUrlReceiver implements RedirectReceiver {
  readonly redirectUri = PASTE_REDIRECT_URI;

  async waitForCallback(expectedState: string, signal: AbortSignal): Promise<URL> {
    const tokenSource = new vscode.CancellationTokenSource();
    const onAbort = () => tokenSource.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const pasted = await vscode.window.showInputBox({
        title: vscode.l10n.t('Finish signing in'),
        prompt: vscode.l10n.t('After approving in the browser, the page will fail to load. Copy the full address from the browser and paste it here.'),
        placeHolder: `${PASTE_REDIRECT_URI}?code=…`,
        ignoreFocusOut: true,
        password: true, // the address carries an authorization code
        validateInput: (value) => (isCallbackFor(value, expectedState) ? undefined : vscode.l10n.t('This is not the address the sign-in ended on.')),
      }, tokenSource.token);
      if (pasted === undefined) throw new KeyringError('cancelled', 'sign-in was cancelled');
      return new URL(pasted.trim());
    } finally {
      signal.removeEventListener('abort', onAbort);
      tokenSource.dispose();
    }
  }

  dispose(): void {}
}

function isCallbackFor(value: string, expectedState: string): boolean {
  try {
    const url = new URL(value.trim());
    return `${url.origin}${url.pathname}` === PASTE_REDIRECT_URI && url.searchParams.get('state') === expectedState;
  } catch {
    return false;
  }
}
