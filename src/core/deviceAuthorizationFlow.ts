// One sign-in by device authorization (RFC 8628), the flow that needs no redirect: a client identity allowed the
// device grant, the device authorization request, the user code shown through the injected port, and polling until
// the person approves elsewhere. Parallel to the authorization code flow; the keyring stores what either returns.
import type * as oauth from 'oauth4webapi';
import type { AuthorizationRequestInput, AuthorizationResult } from './authorizationCodeFlow';
import { DEVICE_CODE_GRANT, type ClientIdentities } from './clientIdentity';
import { sleepFor } from './credentialManager';
import { pollDeviceToken, requestDeviceAuthorization } from './deviceExchanges';
import { pollForTokens, type PollTiming } from './devicePolling';
import { KeyringError } from './errors';
import type { HttpClient } from './http';
import type { Clock, Logger, ShowDeviceCode } from './ports';
import { redactUrl } from './redact';
import { staleRegistrationOr, withFreshRegistrationOnce, type StaleRegistration } from './staleRegistration';

export interface DeviceAuthorizationFlowDeps {
  readonly http: HttpClient;
  readonly identities: ClientIdentities;
  readonly showDeviceCode: ShowDeviceCode;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Tests pass a sleep that advances a fake clock. */
  readonly sleep?: PollTiming['sleep'];
}

export interface DeviceAuthorizationInput extends AuthorizationRequestInput {
  /** Shows the code for this sign-in instead of the port the flow was built with (the editor's own progress UI). */
  readonly showDeviceCode?: ShowDeviceCode;
}

/**
 * The server advertises the endpoint, and the grant too when it lists its grants. An endpoint advertised without a
 * grant list counts as an offer, although RFC 8414's default list would not name the grant: the endpoint says more.
 */
export function supportsDeviceAuthorization(as: oauth.AuthorizationServer): boolean {
  return typeof as.device_authorization_endpoint === 'string' && (as.grant_types_supported === undefined || as.grant_types_supported.includes(DEVICE_CODE_GRANT));
}

export class DeviceAuthorizationFlow {
  private readonly timing: PollTiming;

  constructor(private readonly deps: DeviceAuthorizationFlowDeps) {
    this.timing = { now: () => deps.clock.now(), sleep: deps.sleep ?? sleepFor };
  }

  run(input: DeviceAuthorizationInput): Promise<AuthorizationResult> {
    if (!supportsDeviceAuthorization(input.as)) {
      return Promise.reject(new KeyringError('device_flow_unavailable', `the authorization server ${input.as.issuer} does not offer device authorization (RFC 8628)`));
    }
    return withFreshRegistrationOnce(this.deps.identities, this.deps.logger, () => this.attempt(input));
  }

  private async attempt(input: DeviceAuthorizationInput): Promise<AuthorizationResult | StaleRegistration> {
    const { as, policy } = input;
    const { http, logger } = this.deps;
    const client = await this.deps.identities.resolveForDevice(as, input.client, policy, input.signal);
    // Ends with the attempt, so that whatever shows the code can take it down again.
    const ended = new AbortController();
    const signal = input.signal ? AbortSignal.any([input.signal, ended.signal]) : ended.signal;
    try {
      const pending = await requestDeviceAuthorization(http, policy, as, client, { scopes: input.scopes, resource: input.resource, now: this.deps.clock.now() }, signal);
      logger.info(`[signIn] device authorization started; waiting for approval at ${redactUrl(pending.prompt.verificationUri)}`);
      await (input.showDeviceCode ?? this.deps.showDeviceCode)(pending.prompt, signal);
      const schedule = { intervalSeconds: pending.intervalSeconds, expiresAt: pending.prompt.expiresAt };
      const tokens = await pollForTokens((pollSignal) => pollDeviceToken(http, policy, as, client, pending, pollSignal, input.dpop), schedule, this.timing, signal);
      logger.info('[signIn] the device authorization was approved');
      return { tokens, client };
    } catch (error) {
      return staleRegistrationOr(error, client);
    } finally {
      ended.abort();
    }
  }
}
