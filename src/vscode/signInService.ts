// Interactive sign-in from the editor: a cancellable progress notification, the redirect strategies tried in the
// order the capability table gives, and the person asked before each fallback. A server configured with a machine
// grant needs no person: its grant runs instead. The server's client and grant come from the keyring's serverOptions.
import * as vscode from 'vscode';
import { isKeyringError, KeyringError, shortErrorCode } from '../core/errors';
import type { Keyring, SignInOptions } from '../core/keyring';
import type { Logger } from '../core/ports';
import type { Credential } from '../core/records';
import { Settings } from './ids';
import type { RedirectReceivers } from './redirectReceivers';
import { planRedirectStrategies } from './redirectStrategy';
import type { RedirectStrategy } from '../core/vocabulary';
import type { ConfiguredServer } from './configuredServer';
import { showDeviceCode } from './deviceCodeNotification';
import { withConfirmedIssuerChange, type IssuerChange } from './issuerChange';

export interface SignInServiceDeps {
  readonly keyring: Keyring;
  readonly receivers: RedirectReceivers;
  readonly logger: Logger;
}

export class SignInService {
  private readonly running = new Map<string, Promise<Credential>>();

  constructor(private readonly deps: SignInServiceDeps) {}

  /**
   * One sign-in per server at a time: a second request joins the first. A server that now names another
   * authorization server than its configured client's is signed in there only once the person confirms it.
   */
  signIn(server: ConfiguredServer, scopes?: readonly string[], choice: AccountChoice = {}): Promise<Credential> {
    const running = this.running.get(server.canonicalUrl);
    if (running) return running;
    const attempt = withConfirmedIssuerChange(
      (acceptIssuer) => this.signInWithProgress(server, { scopes, acceptIssuer, ...choice }),
      (change) => confirmIssuerChange(server, change),
    ).finally(() => this.running.delete(server.canonicalUrl));
    this.running.set(server.canonicalUrl, attempt);
    return attempt;
  }

  private signInWithProgress(server: ConfiguredServer, request: Omit<SignInAttempt, 'signal'>): Promise<Credential> {
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Signing in to {0}…', server.entry.label ?? server.canonicalUrl), cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const subscription = token.onCancellationRequested(() => abort.abort());
        try {
          const report = (message: string) => progress.report({ message });
          const attempt = { ...request, signal: abort.signal };
          return await (server.entry.grant ? this.runGrant(server, attempt, report) : this.tryStrategies(server, attempt, report));
        } catch (error) {
          if (isKeyringError(error, 'cancelled') || token.isCancellationRequested) throw new vscode.CancellationError();
          throw error;
        } finally {
          subscription.dispose();
          this.deps.receivers.forget(server.canonicalUrl);
        }
      },
    ));
  }

  private runGrant(server: ConfiguredServer, attempt: SignInAttempt, report: (message: string) => void): Promise<Credential> {
    report(vscode.l10n.t('Requesting tokens with the {0} grant…', server.entry.grant!));
    this.deps.logger.info(`[signIn] ${server.canonicalUrl} with the ${server.entry.grant} grant`);
    return this.deps.keyring.signIn(server.entry.url, attempt);
  }

  private async tryStrategies(server: ConfiguredServer, attempt: SignInAttempt, report: (message: string) => void): Promise<Credential> {
    const { signal } = attempt;
    const plan = planRedirectStrategies({
      uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
      remoteName: vscode.env.remoteName,
      preference: server.entry.redirect ?? vscode.workspace.getConfiguration(Settings.section).get(Settings.redirectStrategy, 'auto'),
      serverSupportsDeviceCode: await this.offersDeviceCode(server, signal),
    });
    if (plan.ignoredPreference) {
      this.deps.logger.warn(`[signIn] the preferred ${plan.ignoredPreference.strategy} redirect is not possible in a ${plan.host} editor: ${plan.ignoredPreference.why}`);
    }
    const strategies = plan.strategies;
    let lastError: unknown;
    for (const [index, strategy] of strategies.entries()) {
      if (index > 0 && !(await this.confirmFallback(strategies[index - 1]!, strategy, lastError))) break;
      this.deps.receivers.use(server.canonicalUrl, strategy);
      report(strategyMessage(strategy));
      this.deps.logger.info(`[signIn] ${server.canonicalUrl} with the ${strategy} redirect (${plan.rows[index]!.why})`);
      try {
        return await this.deps.keyring.signIn(server.entry.url, {
          ...attempt,
          flow: strategy === 'deviceCode' ? 'device' : 'authorizationCode',
          showDeviceCode: (prompt) => showDeviceCode(prompt, report, this.deps.logger),
        });
      } catch (error) {
        if (!isStrategyFailure(error) || signal.aborted) throw error;
        lastError = error;
        this.deps.logger.warn(`[signIn] the ${strategy} redirect did not complete (${error.code})`);
      }
    }
    throw lastError instanceof Error ? lastError : new KeyringError('cancelled', 'sign-in was cancelled');
  }

  /**
   * From discovery, which the sign-in repeats (it stores nothing until a sign-in succeeds). A server that cannot be
   * asked now offers no device code; the sign-in itself then reports why.
   */
  private async offersDeviceCode(server: ConfiguredServer, signal: AbortSignal): Promise<boolean> {
    try {
      return await this.deps.keyring.offersDeviceAuthorization(server.entry.url, signal);
    } catch (error) {
      this.deps.logger.warn(`[signIn] could not learn whether ${server.canonicalUrl} offers a device code (${shortErrorCode(error)})`);
      return false;
    }
  }

  private async confirmFallback(failed: RedirectStrategy, next: RedirectStrategy, error: unknown): Promise<boolean> {
    const reason = isKeyringError(error) ? error.code : 'unknown';
    const tryNext = vscode.l10n.t('Try {0}', strategyName(next));
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('Signing in through {0} did not complete ({1}).', strategyName(failed), reason),
      tryNext,
      vscode.l10n.t('Cancel'),
    );
    return answer === tryNext;
  }
}

/** Which account a sign-in is for: a named one (a hint to the authorization server), or another one than those signed in. */
export type AccountChoice = Pick<SignInOptions, 'account' | 'anotherAccount'>;

/** What one sign-in attempt asks of the engine, whichever way it runs. */
interface SignInAttempt extends AccountChoice {
  readonly scopes: readonly string[] | undefined;
  readonly acceptIssuer: string | undefined;
  readonly signal: AbortSignal;
}

/** A modal question: the answer decides where the configured client's secret or key may go. */
async function confirmIssuerChange(server: ConfiguredServer, change: IssuerChange): Promise<boolean> {
  const signIn = vscode.l10n.t('Sign In at {0}', change.issuer);
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t('{0} now sends you to another authorization server.', server.entry.label ?? server.canonicalUrl),
    {
      modal: true,
      detail: vscode.l10n.t('It used {0} and now names {1}. The client configured for this server, with its secret or key, was not sent there. Continue only if you expected this change.', change.previousIssuer, change.issuer),
    },
    signIn,
  );
  return answer === signIn;
}

/**
 * Failures that another redirect strategy might avoid: nobody came back (or approved the device code in time), or the
 * server refused this redirect URI or registration.
 */
function isStrategyFailure(error: unknown): error is KeyringError {
  return isKeyringError(error) && (error.code === 'timeout' || error.code === 'registration_failed' || error.code === 'authorization_failed' || error.code === 'device_code_expired');
}

function strategyName(strategy: RedirectStrategy): string {
  switch (strategy) {
    case 'uriHandler':
      return vscode.l10n.t('the editor');
    case 'loopback':
      return vscode.l10n.t('a local listener');
    case 'deviceCode':
      return vscode.l10n.t('a device code');
    case 'pasteUrl':
      return vscode.l10n.t('pasting the final address');
  }
}

function strategyMessage(strategy: RedirectStrategy): string {
  switch (strategy) {
    case 'pasteUrl':
      return vscode.l10n.t('Approve in the browser, then paste the address it ends on.');
    case 'deviceCode':
      return vscode.l10n.t('Asking the authorization server for a code…');
    default:
      return vscode.l10n.t('Approve the sign-in in your browser.');
  }
}
