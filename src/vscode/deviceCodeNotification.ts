// How the editor shows the user code of a device sign-in (RFC 8628): the sign-in's progress names the code and the
// page, the verification page opens in the browser (as the code flow's page does), and a notification offers to copy
// the code. Only checked plain text reaches the UI — the engine accepts letters, digits, spaces and dashes as a code —
// and the page is named by its host alone, so server-supplied text never becomes a link.
import * as vscode from 'vscode';
import type { DeviceCodePrompt, Logger } from '../core/ports';

export async function showDeviceCode(prompt: DeviceCodePrompt, report: (message: string) => void, logger: Logger): Promise<void> {
  const host = new URL(prompt.verificationUri).host;
  report(vscode.l10n.t('Enter the code {0} at {1} to approve the sign-in.', prompt.userCode, host));
  void offerToCopy(prompt.userCode, host);
  // As for the code flow's page, the URL goes to the editor as a string (a vscode.Uri would be re-encoded). A person
  // who declines to open it can still type the code on another device, so that does not end the sign-in.
  const opened = await vscode.env.openExternal((prompt.verificationUriComplete ?? prompt.verificationUri) as unknown as vscode.Uri);
  if (!opened) logger.info('[signIn] the verification page was not opened; the code can be entered elsewhere');
}

async function offerToCopy(userCode: string, host: string): Promise<void> {
  const copy = vscode.l10n.t('Copy Code');
  const choice = await vscode.window.showInformationMessage(vscode.l10n.t('To sign in, enter the code {0} at {1}.', userCode, host), copy);
  if (choice === copy) await vscode.env.clipboard.writeText(userCode);
}
