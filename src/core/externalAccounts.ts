// The hook through which a front end lends the engine accounts it already holds at some authorization servers (the
// editor's own GitHub and Microsoft sign-ins). The engine knows no provider: it asks the hook after discovery, before
// any client identity, and leaves renewing such a credential to it. The command line has no such accounts and passes
// no hook.
import type { Disposable } from './events';
import type { TokenSet } from './oauthExchanges';
import type { Credential } from './records';

/** What a sign-in found out before asking the hook: the server, the issuer its discovery named, the scopes it chose. */
export interface ExternalSignInRequest {
  /** The canonical URL of the MCP server whose discovery named `issuer`: the only server the tokens will be sent to. */
  readonly serverUrl: string;
  /** The issuer discovery named and checked (RFC 8414 §3.3). */
  readonly issuer: string;
  /** The resource indicator the sign-in would send (RFC 8707), or undefined when none is sent. */
  readonly resource: string | undefined;
  readonly scopes: readonly string[];
  /** A credential of this server came from the hook before: ask its account again instead of offering a choice. */
  readonly hasSignedInBefore: boolean;
  /** The person adds another account to the server: let them choose which, rather than reuse the one used before. */
  readonly isAnotherAccount: boolean;
  /**
   * The account the caller named (its label or subject), when one was: ask for that account, not for whichever the
   * person picks. The engine refuses a credential of another account (`account_mismatch`) either way.
   */
  readonly account?: string;
  readonly signal?: AbortSignal;
}

/** An account the hook signed in: the tokens and who they belong to. */
export interface ExternalSignIn {
  /** A client id the hook `owns`, naming where the tokens came from (kept with the credential). */
  readonly clientId: string;
  readonly account: string;
  readonly subject: string;
  readonly tokens: TokenSet;
}

/** Why a credential from the hook is renewed: it is due, the MCP server refused it, or someone asked. */
export type ExternalRenewalTrigger = 'due' | 'rejected' | 'forced';

export interface ExternalAccounts {
  /**
   * Tokens from an account the front end holds at `request.issuer`, or undefined to sign in as usual (no account
   * there, or the person chose a client of their own). May ask the person.
   */
  signIn(request: ExternalSignInRequest): Promise<ExternalSignIn | undefined>;
  /** Whether a credential with this client id got its tokens from the hook: they are renewed and never revoked by the engine. */
  owns(clientId: string): boolean;
  /**
   * New tokens for a credential the hook signed in, asking the person only when `interactive`. Throws
   * `needs_sign_in` when only a person can help.
   */
  renew(credential: Credential, request: { readonly trigger: ExternalRenewalTrigger; readonly interactive: boolean; readonly signal?: AbortSignal }): Promise<TokenSet>;
  /**
   * Fires with a client id the hook owns when the accounts behind it may have changed at the front end (the person
   * signed out there); the engine then asks `holds` about every credential lent under that client id.
   */
  onDidChangeAccounts(listener: (clientId: string) => void): Disposable;
  /** Whether the front end still holds the account a credential came from, with a session for it; never asks the person. */
  holds(credential: Credential): Promise<boolean>;
}
