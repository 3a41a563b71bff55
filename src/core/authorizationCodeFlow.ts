// One interactive sign-in: pick the client identity, send the browser to the authorization endpoint, wait for the
// callback on a receiver that is listening before the browser opens, validate it, and exchange the code.
import type * as oauth from 'oauth4webapi';
import type { ClientConfig, ClientIdentities } from './clientIdentity';
import type { DpopBinding } from './dpop';
import { KeyringError, isKeyringError } from './errors';
import type { DestinationPolicy, HttpClient } from './http';
import { buildAuthorizationRequest, exchangeCode, validateCallback, type TokenSet } from './oauthExchanges';
import type { CreateReceiver, Logger, OpenUrl, RedirectReceiver } from './ports';
import type { ClientRecord } from './records';
import { redactUrl } from './redact';

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
  readonly resource: string;
  readonly policy: DestinationPolicy;
  /** The key to bind the tokens to (RFC 9449), when the sign-in uses DPoP. */
  readonly dpop?: DpopBinding;
  readonly signal?: AbortSignal;
}

export interface AuthorizationResult {
  readonly tokens: TokenSet;
  readonly client: ClientRecord;
}

/** A code exchange refused with invalid_client for a dynamically registered client: the registration went stale. */
interface StaleRegistration {
  readonly staleClient: ClientRecord;
  readonly error: KeyringError;
}

export class AuthorizationCodeFlow {
  constructor(private readonly deps: AuthorizationCodeFlowDeps) {}

  async run(input: AuthorizationRequestInput): Promise<AuthorizationResult> {
    const first = await this.attempt(input);
    if (!('staleClient' in first)) return first;
    // The server has forgotten our registration: register again, once, and ask the user once more.
    this.deps.logger.warn('[signIn] the authorization server no longer knows the registered client; registering again');
    await this.deps.identities.forget(first.staleClient);
    const second = await this.attempt(input);
    if ('staleClient' in second) throw new KeyringError('invalid_client', `the authorization server rejected a freshly registered client too: ${second.error.message}`, { cause: second.error });
    return second;
  }

  private async attempt(input: AuthorizationRequestInput): Promise<AuthorizationResult | StaleRegistration> {
    const { as, policy, signal } = input;
    const receiver = await this.deps.createReceiver({ serverUrl: input.serverUrl, issuer: as.issuer });
    try {
      const client = await this.deps.identities.resolve(as, input.client, receiver.redirectUri, policy, signal);
      const pending = await buildAuthorizationRequest(as, client, { redirectUri: receiver.redirectUri, scopes: input.scopes, resource: input.resource });
      const callbackUrl = await this.waitWhileBrowsing(receiver, pending.state, pending.url, signal);
      const params = validateCallback(as, client, callbackUrl, pending);
      this.deps.logger.info(`[signIn] authorization response accepted; exchanging the code at ${redactUrl(as.token_endpoint!)}`);
      try {
        return { tokens: await exchangeCode(this.deps.http, policy, as, client, params, pending, signal, input.dpop), client };
      } catch (error) {
        if (isKeyringError(error, 'invalid_client') && client.origin === 'dynamic-registration') return { staleClient: client, error };
        throw error;
      }
    } finally {
      receiver.dispose();
    }
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
