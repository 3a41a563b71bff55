// The two OAuth exchanges of a device authorization (RFC 8628), as oauth4webapi request/process pairs: the device
// authorization request (§3.1–3.2) and one poll of the token endpoint (§3.4–3.5). The device code never leaves here
// except inside the pending authorization the caller holds; it is never logged or put into an error.
import * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import { clientAuthentication, oauthClient } from './clientIdentity';
import { deviceCodeExpired, type PollAnswer } from './devicePolling';
import { withDpopNonceRetry, type DpopBinding } from './dpop';
import { KeyringError, toKeyringError } from './errors';
import type { HttpClient } from './http';
import { resourceParameter, toTokenSet, type TokenSet } from './oauthExchanges';
import { normalizeTokenResponse } from './tokenResponse';
import type { DeviceCodePrompt } from './ports';
import type { ClientRecord } from './records';
import { formatScope } from './scopes';

/** RFC 8628 §6.1 suggests short codes from a small alphabet; anything else is not shown to the person. */
const USER_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 -]{0,62}[A-Za-z0-9]$/;
/** However long the server lets a code live, nobody waits for approval longer than this (RFC 8628 suggests minutes). */
export const MAX_DEVICE_WAIT_SECONDS = 30 * 60;

export interface PendingDeviceAuthorization {
  readonly deviceCode: string;
  readonly prompt: DeviceCodePrompt;
  readonly intervalSeconds?: number;
  readonly resource: string | undefined;
}

export async function requestDeviceAuthorization(
  http: HttpClient,
  policy: DestinationPolicy,
  as: oauth.AuthorizationServer,
  client: ClientRecord,
  request: { scopes: readonly string[]; resource: string | undefined; now: number },
  signal?: AbortSignal,
): Promise<PendingDeviceAuthorization> {
  const parameters = new URLSearchParams(resourceParameter(request.resource));
  if (request.scopes.length > 0) parameters.set('scope', formatScope(request.scopes));
  let response: oauth.DeviceAuthorizationResponse;
  try {
    const answer = await oauth.deviceAuthorizationRequest(as, oauthClient(client), clientAuthentication(client), parameters, http.oauthOptions('token', policy, signal));
    response = await oauth.processDeviceAuthorizationResponse(as, oauthClient(client), answer);
  } catch (error) {
    throw toKeyringError(error, 'device authorization request');
  }
  return {
    deviceCode: response.device_code,
    prompt: {
      userCode: checkedUserCode(response.user_code),
      verificationUri: checkedVerificationUri(http, response.verification_uri),
      verificationUriComplete: response.verification_uri_complete === undefined ? undefined : checkedVerificationUri(http, response.verification_uri_complete),
      expiresAt: request.now + Math.min(response.expires_in, MAX_DEVICE_WAIT_SECONDS) * 1000,
    },
    intervalSeconds: response.interval,
    resource: request.resource,
  };
}

/** One token request for the device code: tokens, or word to keep waiting; denial and expiry are thrown. */
export async function pollDeviceToken(
  http: HttpClient,
  policy: DestinationPolicy,
  as: oauth.AuthorizationServer,
  client: ClientRecord,
  pending: PendingDeviceAuthorization,
  signal?: AbortSignal,
  dpop?: DpopBinding,
): Promise<PollAnswer<TokenSet>> {
  try {
    return await withDpopNonceRetry(dpop, async () => {
      const response = await oauth.deviceCodeGrantRequest(as, oauthClient(client), clientAuthentication(client), pending.deviceCode, {
        ...http.oauthOptions('token', policy, signal),
        additionalParameters: resourceParameter(pending.resource),
        DPoP: dpop?.handle,
      });
      return { kind: 'tokens', tokens: toTokenSet(await oauth.processDeviceCodeResponse(as, oauthClient(client), await normalizeTokenResponse(response)), dpop) } as const;
    });
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      if (error.error === 'authorization_pending') return { kind: 'pending' };
      if (error.error === 'slow_down') return { kind: 'slowDown' };
      if (error.error === 'expired_token') throw deviceCodeExpired();
    }
    throw toKeyringError(error, 'device token request');
  }
}

function checkedUserCode(userCode: string): string {
  if (!USER_CODE_PATTERN.test(userCode)) throw new KeyringError('invalid_response', 'the device authorization response has a user code MCP Keyring will not display');
  return userCode;
}

/** The person's browser goes there: the same HTTPS rule as for every other server-supplied URL. */
function checkedVerificationUri(http: HttpClient, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KeyringError('invalid_response', 'the device authorization response has a verification URI that is not a URL');
  }
  http.assertSecure(url, 'the verification');
  return url.href;
}
