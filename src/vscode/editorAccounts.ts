// Lends the engine the accounts the person already has in the editor (the built-in GitHub, GitHub Enterprise Server
// and Microsoft authentication providers) for MCP servers whose discovery named those providers' authorization
// servers. The person is asked first and may keep a client of their own; renewing is then the provider's job.
import * as vscode from 'vscode';
import { decodeJwtPayload } from '../core/account';
import { KeyringError } from '../core/errors';
import type { Disposable } from '../core/events';
import type { ExternalAccounts, ExternalRenewalTrigger, ExternalSignIn, ExternalSignInRequest } from '../core/externalAccounts';
import type { TokenSet } from '../core/oauthExchanges';
import type { Logger } from '../core/ports';
import { redactUrl } from '../core/redact';
import { resourceIndicatorOf, type Credential } from '../core/records';
import { editorClientId, editorProviderFor, editorProviderId, providerOfClientId, providerScopes, type EditorProviderId, type EditorProviderMatch } from './editorAccountProviders';

/** The setting of the built-in GitHub extension naming the GitHub Enterprise Server its `github-enterprise` provider signs in at. */
const GITHUB_ENTERPRISE_URI = 'github-enterprise.uri';

export class EditorAccounts implements ExternalAccounts {
  constructor(private readonly logger: Logger) {}

  async signIn(request: ExternalSignInRequest): Promise<ExternalSignIn | undefined> {
    const match = this.providerFor(request.issuer);
    if (!match) return undefined;
    this.logger.info(`[editorAccounts] ${redactUrl(request.serverUrl)} signs in at the ${match.providerId} provider's authorization server`);
    if (!request.hasSignedInBefore && !(await offerEditorAccount(request.serverUrl, match.providerId))) {
      this.logger.info(`[editorAccounts] ${redactUrl(request.serverUrl)}: the person keeps a client of their own`);
      return undefined;
    }
    const scopes = providerScopes(match, request.scopes, request.resource);
    this.logger.info(`[editorAccounts] asking the ${match.providerId} provider for ${redactUrl(request.serverUrl)} (scopes: ${scopes.join(' ') || 'none'})`);
    const presentation = { detail: vscode.l10n.t('MCP Keyring uses this account for {0}.', redactUrl(request.serverUrl)) };
    // A named account is asked for by name (the provider's account picker would let the person pick another).
    const named = request.account === undefined ? undefined : await providerAccountNamed(match.providerId, request.account);
    const wanted: SessionWanted = named ? 'new' : request.isAnotherAccount ? 'choose' : request.hasSignedInBefore ? 'new' : 'any';
    const session = await askPerson(match.providerId, scopes, wanted, presentation, named);
    return { clientId: editorClientId(match.providerId), account: session.account.label, subject: session.account.id, tokens: tokensOf(session) };
  }

  owns(clientId: string): boolean {
    return providerOfClientId(clientId) !== undefined;
  }

  /**
   * Asks the provider for the account's session again, silently; a token the MCP server refused is replaced only by
   * another one, and only a person can make the provider mint it (`forceNewSession`), so that needs `interactive`.
   */
  async renew(credential: Credential, { trigger, interactive }: { readonly trigger: ExternalRenewalTrigger; readonly interactive: boolean }): Promise<TokenSet> {
    const lent = this.lentSession(credential);
    if (!lent) throw new KeyringError('needs_sign_in', `the editor's ${providerOfClientId(credential.clientId) ?? 'unknown'} account no longer signs in at this server's authorization server`);
    const { providerId, scopes, account } = lent;
    const silent = await vscode.authentication.getSession(providerId, scopes, { silent: true, account });
    const isReplacement = silent !== undefined && (trigger !== 'rejected' || silent.accessToken !== credential.accessToken);
    if (silent && isReplacement) return tokensOf(silent);
    if (!interactive) throw new KeyringError('needs_sign_in', `the editor's ${providerId} account has no ${trigger === 'rejected' ? 'other ' : ''}token for this server without asking the person`);
    this.logger.info(`[editorAccounts] asking the ${providerId} provider for a new session (${trigger})`);
    const detail = vscode.l10n.t('The MCP server refused the token of this account; sign in again to get a new one.');
    const session = await askPerson(providerId, scopes, trigger === 'rejected' ? 'new' : 'any', { detail }, account);
    return tokensOf(session);
  }

  /** Every sign-in and sign-out at the lending providers; the engine asks `holds` about what those providers lent. */
  onDidChangeAccounts(listener: (clientId: string) => void): Disposable {
    return vscode.authentication.onDidChangeSessions(({ provider }) => {
      const providerId = editorProviderId(provider.id);
      if (providerId) listener(editorClientId(providerId));
    });
  }

  /** The provider still has a session of the account for the credential's scopes (the person did not sign out of it there). */
  async holds(credential: Credential): Promise<boolean> {
    const lent = this.lentSession(credential);
    if (!lent) return false;
    return (await vscode.authentication.getSession(lent.providerId, lent.scopes, { silent: true, account: lent.account })) !== undefined;
  }

  /**
   * What to ask the provider for a credential it lent; none when the provider no longer signs in at the credential's
   * issuer (the `github-enterprise.uri` setting moved to another GitHub Enterprise Server).
   */
  private lentSession(credential: Credential): { providerId: EditorProviderId; scopes: string[]; account: vscode.AuthenticationSessionAccountInformation } | undefined {
    const providerId = providerOfClientId(credential.clientId);
    const match = this.providerFor(credential.issuer);
    if (!providerId || match?.providerId !== providerId) return undefined;
    return { providerId, scopes: providerScopes(match, credential.scopes, resourceIndicatorOf(credential)), account: { id: credential.subject ?? credential.account, label: credential.account } };
  }

  private providerFor(issuer: string): EditorProviderMatch | undefined {
    return editorProviderFor(issuer, vscode.workspace.getConfiguration().get<string>(GITHUB_ENTERPRISE_URI));
  }
}

/** The provider's account with this label or id, if the editor is signed in to it. */
async function providerAccountNamed(providerId: EditorProviderId, name: string): Promise<vscode.AuthenticationSessionAccountInformation | undefined> {
  const accounts = await vscode.authentication.getAccounts(providerId);
  return accounts.find((account) => account.label === name || account.id === name);
}

/** A provider's name for people, as the view and the offer show it. */
export function editorAccountName(providerId: EditorProviderId): string {
  switch (providerId) {
    case 'github':
      return vscode.l10n.t("the editor's GitHub account");
    case 'github-enterprise':
      return vscode.l10n.t("the editor's GitHub Enterprise Server account");
    case 'microsoft':
      return vscode.l10n.t("the editor's Microsoft account");
  }
}

/**
 * What the provider's sign-in gives: any session of the account (`createIfNone`); a new one when the current one is not
 * good enough (`forceNewSession`); or one of the account the person chooses now, for *Sign in with Another Account…*:
 * `clearSessionPreference` makes the editor show its account picker (with signing in to another account) instead of
 * the account this extension used before, as the API documents.
 */
type SessionWanted = 'any' | 'new' | 'choose';

function askPerson(providerId: EditorProviderId, scopes: readonly string[], wanted: SessionWanted, presentation: vscode.AuthenticationGetSessionPresentationOptions, account?: vscode.AuthenticationSessionAccountInformation): Thenable<vscode.AuthenticationSession> {
  switch (wanted) {
    case 'any':
      return vscode.authentication.getSession(providerId, scopes, { createIfNone: presentation, account });
    case 'new':
      return vscode.authentication.getSession(providerId, scopes, { forceNewSession: presentation, account });
    case 'choose':
      return vscode.authentication.getSession(providerId, scopes, { clearSessionPreference: true, createIfNone: presentation });
  }
}

/** Asked before the person's editor account is lent to a server; Cancel ends the sign-in. */
async function offerEditorAccount(serverUrl: string, providerId: EditorProviderId): Promise<boolean> {
  const useEditorAccount = vscode.l10n.t('Use the Editor\'s Account');
  const useOwnClient = vscode.l10n.t('Use My Own App or Client');
  const answer = await vscode.window.showInformationMessage(
    vscode.l10n.t('{0} signs in with {1}.', redactUrl(serverUrl), editorAccountName(providerId)),
    {
      modal: true,
      detail: vscode.l10n.t('Use the account the editor signs in with (it asks you to sign in there first if you have not): the editor keeps and renews its token, and MCP Keyring sends it only to this server. Or sign in with an app or client of your own.'),
    },
    useEditorAccount,
    useOwnClient,
  );
  if (answer === undefined) throw new KeyringError('cancelled', 'the person cancelled the sign-in');
  return answer === useEditorAccount;
}

/**
 * A session as tokens. The providers say nothing of expiry; a JWT access token's `exp` (Entra's) tells when to ask the
 * provider again, and an opaque one (GitHub's, which do not expire) is used until the server refuses it.
 */
function tokensOf(session: vscode.AuthenticationSession): TokenSet {
  const exp = decodeJwtPayload(session.accessToken)?.exp;
  const expiresInSeconds = typeof exp === 'number' && Number.isFinite(exp) ? Math.max(0, Math.floor(exp - Date.now() / 1000)) : undefined;
  return {
    accessToken: session.accessToken,
    tokenType: 'bearer',
    scopes: session.scopes.filter((scope) => !scope.startsWith('VSCODE_')),
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  };
}
