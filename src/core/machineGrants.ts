// Grants that need no person at a browser: client credentials (RFC 6749 §4.4), a JWT bearer assertion from a workload
// identity (RFC 7523 §2.1), and enterprise-managed authorization, where the identity provider exchanges its ID token
// for an identity assertion JWT authorization grant (ID-JAG, RFC 8693 token exchange) that the authorization server
// then accepts as a JWT bearer assertion. Each exchange is an oauth4webapi request/process pair.
import * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import { clientAuthentication, oauthClient } from './clientIdentity';
import { clientSecretBasic } from './clientSecretBasic';
import { withDpopNonceRetry, type DpopBinding } from './dpop';
import { KeyringError, toKeyringError } from './errors';
import type { HttpClient } from './http';
import { resourceParameter, toTokenSet, type TokenSet } from './oauthExchanges';
import { normalizeTokenResponse } from './tokenResponse';
import type { ClientRecord } from './records';
import { formatScope } from './scopes';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** Produces an assertion or token when a grant runs, so a file rotated by the platform is read afresh each time. */
export type SecretSource = () => Promise<string>;

/** The identity provider of enterprise-managed authorization, as configured by the user. */
export interface IdentityProvider {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly idToken: SecretSource;
}

export type MachineGrant =
  | { readonly kind: 'client_credentials' }
  | { readonly kind: 'jwt-bearer'; readonly assertion: SecretSource }
  | { readonly kind: 'token-exchange'; readonly identityProvider: IdentityProvider };

export interface MachineGrantRequest {
  readonly http: HttpClient;
  readonly policy: DestinationPolicy;
  readonly as: oauth.AuthorizationServer;
  readonly client: ClientRecord;
  /** The resource indicator to send (RFC 8707), or undefined when none is. */
  readonly resource: string | undefined;
  readonly scopes: readonly string[];
  readonly dpop?: DpopBinding;
  readonly signal?: AbortSignal;
}

/** Runs the grant at the authorization server. Failures are final: a rejected assertion is never retried or swapped. */
export async function requestMachineTokens(grant: MachineGrant, request: MachineGrantRequest): Promise<TokenSet> {
  switch (grant.kind) {
    case 'client_credentials':
      return clientCredentials(request);
    case 'jwt-bearer':
      // Not "bearer grant": the redactor masks whatever follows the word bearer.
      return jwtBearer(request, await readSecret(grant.assertion, 'the assertion'), 'JWT assertion grant');
    case 'token-exchange': {
      const idJag = await requestIdJag(grant.identityProvider, request);
      return jwtBearer(request, idJag, 'ID-JAG assertion grant');
    }
  }
}

function clientCredentials(request: MachineGrantRequest): Promise<TokenSet> {
  const { as, client, dpop } = request;
  return exchange('client credentials grant', dpop, async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, oauthClient(client), clientAuthentication(client), grantParameters(request), tokenOptions(request));
    return oauth.processClientCredentialsResponse(as, oauthClient(client), await normalizeTokenResponse(response));
  });
}

function jwtBearer(request: MachineGrantRequest, assertion: string, context: string): Promise<TokenSet> {
  const { as, client, dpop } = request;
  return exchange(context, dpop, async () => {
    const response = await oauth.genericTokenEndpointRequest(as, oauthClient(client), clientAuthentication(client), JWT_BEARER_GRANT, { ...grantParameters(request), assertion }, tokenOptions(request));
    return oauth.processGenericTokenEndpointResponse(as, oauthClient(client), await normalizeTokenResponse(response));
  });
}

/**
 * RFC 8693 at the identity provider: its ID token in, an ID-JAG for this authorization server (`audience`) and MCP
 * server (`resource`) out. The answer is not an access token, so its `token_type` is `N_A`.
 */
async function requestIdJag(idp: IdentityProvider, request: MachineGrantRequest): Promise<string> {
  const tokenEndpoint = URL.parse(idp.tokenEndpoint);
  if (!tokenEndpoint) throw new KeyringError('usage', 'the identity provider token endpoint is not a valid absolute URL');
  // Only the token endpoint is known; oauth4webapi needs an issuer-shaped record around it.
  const idpServer: oauth.AuthorizationServer = { issuer: tokenEndpoint.origin, token_endpoint: tokenEndpoint.href };
  const idpClient: oauth.Client = { client_id: idp.clientId };
  const subjectToken = await readSecret(idp.idToken, 'the identity provider ID token');
  try {
    const response = await oauth.genericTokenEndpointRequest(idpServer, idpClient, idp.clientSecret ? clientSecretBasic(idp.clientSecret) : oauth.None(), TOKEN_EXCHANGE_GRANT, {
      requested_token_type: ID_JAG_TOKEN_TYPE,
      audience: request.as.issuer,
      ...resourceParameter(request.resource),
      subject_token: subjectToken,
      subject_token_type: ID_TOKEN_TYPE,
      ...(request.scopes.length > 0 ? { scope: formatScope(request.scopes) } : {}),
    }, { ...request.http.oauthOptions('token', request.policy, request.signal) });
    const answer = await oauth.processGenericTokenEndpointResponse(idpServer, idpClient, response, { recognizedTokenTypes: { n_a: () => undefined } });
    if (answer.issued_token_type !== ID_JAG_TOKEN_TYPE) throw new KeyringError('invalid_response', 'identity provider token exchange: the answer is not an ID-JAG (issued_token_type)');
    return answer.access_token;
  } catch (error) {
    throw toKeyringError(error, 'identity provider token exchange');
  }
}

async function exchange(context: string, dpop: DpopBinding | undefined, attempt: () => Promise<oauth.TokenEndpointResponse>): Promise<TokenSet> {
  try {
    return toTokenSet(await withDpopNonceRetry(dpop, attempt), dpop);
  } catch (error) {
    throw toKeyringError(error, context);
  }
}

function grantParameters(request: MachineGrantRequest): Record<string, string> {
  return { ...resourceParameter(request.resource), ...(request.scopes.length > 0 ? { scope: formatScope(request.scopes) } : {}) };
}

function tokenOptions(request: MachineGrantRequest) {
  return { ...request.http.oauthOptions('token', request.policy, request.signal), DPoP: request.dpop?.handle };
}

async function readSecret(source: SecretSource, what: string): Promise<string> {
  const value = (await source()).trim();
  if (!value) throw new KeyringError('usage', `${what} is empty`);
  return value;
}
