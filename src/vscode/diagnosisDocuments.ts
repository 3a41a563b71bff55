// Diagnosis reports as read-only documents (a content provider, so the editor never offers to save or edit them).
import * as vscode from 'vscode';

export const DIAGNOSIS_SCHEME = 'mcp-keyring-diagnosis';

export class DiagnosisDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly reports = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.reports.get(uri.path) ?? '';
  }

  /** Opens `text` as a new read-only document named after the server. */
  async show(serverName: string, text: string): Promise<void> {
    const path = `/${++this.counter}/${serverName.replace(/[^\w.-]+/g, '_')}.txt`;
    this.reports.set(path, text);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: DIAGNOSIS_SCHEME, path }));
    await vscode.window.showTextDocument(document, { preview: false });
  }

  dispose(): void {
    this.reports.clear();
    this.changed.dispose();
  }
}
