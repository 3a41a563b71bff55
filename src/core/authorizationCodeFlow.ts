// One interactive sign-in: pick the client identity, send the browser to the authorization endpoint, wait for the
// callback on a receiver that is listening before the browser opens, validate it, and exchange the code.
import type * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import { redirectUriHint, type ClientConfig, type ClientIdentities } from './clientIdentity';
import type { DpopBinding } from './dpop';
import { KeyringError, isKeyringError } from './errors';
import type { HttpClient } from './http';
import { buildAuthorizationRequest, exchangeCode, validateCallback, type TokenSet } from './oauthExchanges';
import type { CreateReceiver, Logger, OpenUrl, RedirectReceiver } from './ports';
import type { ClientRecord } from './records';
import { redactUrl } from './redact';
import { staleRegistrationOr, withFreshRegistrationOnce, type StaleRegistration } from './staleRegistration';

export interface AuthorizationCodeFlowDeps {
  readonly http: HttpClient;
  readonly identities: ClientIdentities;
  readonly openUrl: OpenUrl;
  readonly createReceiver: CreateReceiver;
  readonly logger: Logger;
}

export interface AuthorizationRequestInput {
  /** The canonical MCP server URL the sign-in is for. */
  readonly serverUrl: string;
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientConfig;
  readonly scopes: readonly string[];
  /** The resource indicator to send (RFC 8707), or undefined when none is. */
  readonly resource: string | undefined;
  /** Extra non-secret authorization request parameters the server's configuration names. */
  readonly extraParameters?: Readonly<Record<string, string>>;
  readonly policy: DestinationPolicy;
  /** The key to bind the tokens to (RFC 9449), when the sign-in uses DPoP. */
  readonly dpop?: DpopBinding;
  readonly signal?: AbortSignal;
}

/** What only a browser sign-in can ask of the authorization server: which account, or another one. */
export interface AccountChoice {
  readonly loginHint?: string;
  readonly isAnotherAccount?: boolean;
}

export interface AuthorizationResult {
  readonly tokens: TokenSet;
  readonly client: ClientRecord;
}

export class AuthorizationCodeFlow {
  constructor(private readonly deps: AuthorizationCodeFlowDeps) {}

  run(input: AuthorizationRequestInput & AccountChoice): Promise<AuthorizationResult> {
    return withFreshRegistrationOnce(this.deps.identities, this.deps.logger, () => this.attempt(input));
  }

  private async attempt(input: AuthorizationRequestInput & AccountChoice): Promise<AuthorizationResult | StaleRegistration> {
    const { as, policy, signal } = input;
    const registeredLoopbackPorts = await this.deps.identities.registeredLoopbackPorts(as.issuer);
    const receiver = await this.deps.createReceiver({ serverUrl: input.serverUrl, issuer: as.issuer, registeredLoopbackPorts });
    try {
      const client = await this.deps.identities.resolve(as, input.client, receiver.redirectUri, policy, signal);
      const pending = await buildAuthorizationRequest(as, client, { redirectUri: receiver.redirectUri, scopes: input.scopes, resource: input.resource, extraParameters: input.extraParameters, loginHint: input.loginHint, isAnotherAccount: input.isAnotherAccount });
      const callbackUrl = await this.waitWhileBrowsing(receiver, pending.state, pending.url, signal).catch(async (error: unknown) => {
        throw withMetadataDocumentHint(await this.afterNoCallback(error, client), client, receiver.redirectUri);
      });
      const params = validateCallback(as, client, callbackUrl, pending);
      this.deps.logger.info(`[signIn] authorization response accepted; exchanging the code at ${redactUrl(as.token_endpoint!)}`);
      try {
        return { tokens: await exchangeCode(this.deps.http, policy, as, client, params, pending, signal, input.dpop), client };
      } catch (error) {
        return staleRegistrationOr(error, client);
      }
    } finally {
      receiver.dispose();
    }
  }

  /**
   * No callback came: the wait ran out, or the person gave up. An authorization server that no longer knows a
   * registration (restarted, its storage wiped) says so only on its page in the browser, and nothing reaches the
   * engine; a registration seen by nobody but the browser cannot be checked beforehand either. So a stored
   * registration that no credential uses is forgotten here, and the next sign-in registers anew instead of meeting
   * the same page. One in use is kept: its refresh would tell (`invalid_client`), and forgetting it would end that
   * credential.
   */
  private async afterNoCallback(error: unknown, client: ClientRecord): Promise<unknown> {
    if (!isKeyringError(error, 'timeout') && !isKeyringError(error, 'cancelled')) return error;
    if (client.origin !== 'dynamic-registration' || !(await this.deps.identities.forgetUnlessInUse(client))) return error;
    this.deps.logger.warn('[signIn] no callback with a registration made earlier; it is forgotten, and the next sign-in registers anew');
    if (!isKeyringError(error, 'timeout')) return error;
    return new KeyringError('timeout', `${error.message}; if the authorization server showed an error, it may no longer know the client registered there earlier: the next sign-in registers a new one`, { cause: error });
  }

  /**
   * Starts waiting before the browser opens. The callback wins even if the browser command is still running (a
   * real browser may not exit until it is closed); a browser command that fails ends the wait.
   */
  private async waitWhileBrowsing(receiver: RedirectReceiver, state: string, url: URL, signal?: AbortSignal): Promise<URL> {
    const stop = new AbortController();
    const waitSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const callback = receiver.waitForCallback(state, waitSignal);
    this.deps.logger.info(`[signIn] opening the browser at ${redactUrl(url)}`);
    return new Promise<URL>((resolve, reject) => {
      callback.then(resolve, reject);
      this.deps.openUrl(url.href).catch((error: unknown) => {
        reject(error instanceof Error ? error : new Error(String(error)));
        stop.abort(); // settles the wait too, after the browser's error has already decided the outcome
      });
    });
  }
}

/**
 * An authorization server that cannot use a client ID metadata document (unreachable, or not listing this redirect
 * URI) says so only on its own page in the browser and never redirects back: here the wait just runs out. Name the
 * likely cause, so the person does not take it for a slow sign-in.
 */
function withMetadataDocumentHint(error: unknown, client: ClientRecord, redirectUri: string): unknown {
  if (client.origin !== 'metadata-document' || !isKeyringError(error, 'timeout')) return error;
  return new KeyringError('timeout', `${error.message}; if the authorization server showed an error, check that the client metadata document ${client.clientId} is reachable from it and lists the redirect URI ${redirectUriHint(redirectUri)}`, { cause: error });
}
