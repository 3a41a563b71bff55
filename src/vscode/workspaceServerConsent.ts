// The person's confirmation, once per workspace, of what its settings say about where secrets go (see
// workspaceServers.ts). Until then those fields are ignored; the person is told once per window, and reviews exactly
// what would count before allowing it. The answer lives in the editor's workspace state, which the workspace's own
// files cannot write.
import * as vscode from 'vscode';
import type { Logger } from '../core/ports';
import { StateKeys } from './ids';
import { routingSummary } from './workspaceServers';

export class WorkspaceServerConsent implements vscode.Disposable {
  private readonly confirmedEmitter = new vscode.EventEmitter<void>();
  readonly onDidConfirm = this.confirmedEmitter.event;
  /** What this window has already told the person about, so a settings read does not ask twice. */
  private offered: string | undefined;

  constructor(
    private readonly workspaceState: vscode.Memento,
    private readonly logger: Logger,
  ) {}

  confirmed(): string | undefined {
    return this.workspaceState.get<string>(StateKeys.confirmedWorkspaceRouting);
  }

  /** Tells the person, once per window for each new `routing`, that the workspace's secret routing is ignored. */
  offer(routing: string): void {
    if (this.offered === routing) return;
    this.offered = routing;
    this.logger.warn('[settings] this workspace\'s mcpKeyring settings choose clients, grants or credential sources; they are ignored until the person allows them');
    void this.ask(routing);
  }

  dispose(): void {
    this.confirmedEmitter.dispose();
  }

  private async ask(routing: string): Promise<void> {
    const review = vscode.l10n.t('Review…');
    const notice = vscode.l10n.t('This workspace\'s settings choose where MCP Keyring sends secrets for some servers. They are ignored until you allow them.');
    if ((await vscode.window.showWarningMessage(notice, review)) !== review) return;
    const allow = vscode.l10n.t('Allow for This Workspace');
    const question = vscode.l10n.t('Allow this workspace\'s settings to choose clients, grants and credential sources?');
    const detail = vscode.l10n.t('Only allow settings you trust: they decide where your client secrets, keys, assertions and identity provider tokens are sent.\n\n{0}', routingSummary(routing).join('\n'));
    if ((await vscode.window.showWarningMessage(question, { modal: true, detail }, allow)) !== allow) return;
    await this.workspaceState.update(StateKeys.confirmedWorkspaceRouting, routing);
    this.confirmedEmitter.fire();
  }
}
