// Decides which client identity to present to an authorization server: a pre-registered client when the user
// configured one, a client ID metadata document when the server supports it, dynamic registration (RFC 7591)
// otherwise. Identities are remembered per issuer and never shown to another issuer.
import * as oauth from 'oauth4webapi';
import type { DestinationPolicy } from './addresses';
import { clientSecretBasic } from './clientSecretBasic';
import { KeyringError, toKeyringError } from './errors';
import type { HttpClient } from './http';
import type { ClientRecord, KeyringRepository } from './records';
import { normalizeRegistrationResponse } from './registrationResponse';
import type { ClientAuthMethod } from './vocabulary';
import { importPrivateKeyPem } from './signingKeys';
import { isLoopbackHost } from './urls';

/** RFC 8628 §3.4: a registration must name this grant for the device flow to be allowed. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * How many of an issuer's code-flow registrations that no credential is bound to are kept, newest first, for sign-ins
 * to come (each serves one redirect URI, so one per loopback port that was free at the time). Older ones go: with a
 * server that matches redirect URIs exactly, a port that another program took once would otherwise leave a
 * registration behind for good. See docs/design.md, "A registration serves its exact redirect URI".
 */
export const SPARE_REGISTRATIONS_PER_ISSUER = 3;

/** What a registration asks for, by flow: the code flow needs a redirect URI, the device flow none. */
interface RegistrationRequest {
  readonly redirect_uris: string[];
  readonly grant_types: string[];
  readonly response_types: string[];
}

export interface ClientConfig {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** PKCS#8 PEM for `private_key_jwt` (RFC 7523 §2.2); implies that method unless another is configured. */
  readonly privateKey?: string;
  /** JWS algorithm of `privateKey`; inferred from the key when absent. */
  readonly signingAlg?: string;
  readonly authMethod?: ClientAuthMethod;
  /** An https URL serving our client ID metadata document; used as the client id where supported. */
  readonly clientMetadataUrl?: string;
  readonly clientName: string;
}

export class ClientIdentities {
  constructor(
    private readonly http: HttpClient,
    private readonly repository: KeyringRepository,
    private readonly now: () => number,
  ) {}

  /**
   * The identity to use for a sign-in. A new one is not stored here: the caller keeps it with `remember` once the
   * sign-in succeeded, so a failed attempt leaves nothing behind.
   */
  async resolve(as: oauth.AuthorizationServer, config: ClientConfig, redirectUri: string, policy: DestinationPolicy, signal?: AbortSignal): Promise<ClientRecord> {
    if (config.clientId) return this.preRegistered(as, config, [redirectUri]);
    const documentSupported = config.clientMetadataUrl !== undefined && as.client_id_metadata_document_supported === true;
    // The document the user configured wins over a registration remembered from before it was configured, as the MCP
    // authorization spec orders; it is used only while configured and supported, never taken from memory. It lists
    // loopback redirects (see media/client-metadata.json): the editor's vscode:// URI, or its web callback that carries
    // a per-page counter, cannot be in it, and presenting it there would end on the server's error page.
    if (documentSupported && isLoopbackRedirect(redirectUri)) {
      return { issuer: as.issuer, clientId: config.clientMetadataUrl, authMethod: 'none', redirectUris: [redirectUri], origin: 'metadata-document', registeredAt: this.now() };
    }
    // A pre-registered client belongs to the servers configured with it; others never borrow it (or its secret).
    const stored = (await this.repository.listClients(as.issuer)).find((record) => record.origin === 'dynamic-registration' && isRegisteredFor(record, redirectUri));
    if (stored) return stored;
    if (as.registration_endpoint) return this.register(as, config, { redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }, policy, signal);
    if (documentSupported) {
      // A failure another redirect can avoid: the loopback one can use the document.
      throw new KeyringError('registration_failed', `the client metadata document serves loopback redirects only, and ${as.issuer} offers no registration for the redirect URI ${redirectUri}; sign in with the loopback redirect`);
    }
    throw new KeyringError('registration_unavailable', `the authorization server ${as.issuer} offers no client registration: a client id registered there is needed, allowing the redirect URI ${redirectUriHint(redirectUri)}`, { missing: 'clientId' });
  }

  /**
   * The identity for a device authorization: no redirect URI, and only a registration that asked for the device
   * grant (one made for the code flow may not be allowed it). Client ID metadata documents are not used: ours lists
   * the code flow's grants.
   */
  async resolveForDevice(as: oauth.AuthorizationServer, config: ClientConfig, policy: DestinationPolicy, signal?: AbortSignal): Promise<ClientRecord> {
    if (config.clientId) return this.preRegistered(as, config);
    const stored = (await this.repository.listClients(as.issuer)).find((record) => record.origin === 'dynamic-registration' && record.grantTypes?.includes(DEVICE_CODE_GRANT));
    if (stored) return stored;
    if (as.registration_endpoint) return this.register(as, config, { redirect_uris: [], grant_types: [DEVICE_CODE_GRANT, 'refresh_token'], response_types: [] }, policy, signal);
    throw new KeyringError('registration_unavailable', `the authorization server ${as.issuer} offers no client registration: a client id registered there for the device flow is needed`, { missing: 'clientId' });
  }

  /** The client the user configured (a machine grant has no redirect URIs). */
  async preRegistered(as: oauth.AuthorizationServer, config: ClientConfig, redirectUris: readonly string[] = []): Promise<ClientRecord> {
    const { clientId } = config;
    if (!clientId) throw new KeyringError('usage', 'this grant needs a client registered at the authorization server', { missing: 'clientId' });
    const record = preRegistered(as, { ...config, clientId }, redirectUris, this.now());
    // A key that cannot sign is a configuration error: say so before anything is sent.
    if (record.privateKey) await importPrivateKeyPem(record.privateKey, record.signingAlg);
    return record;
  }

  /** The loopback ports of our registrations at `issuer`, newest registration first: where a sign-in should listen. */
  async registeredLoopbackPorts(issuer: string): Promise<number[]> {
    const registrations = (await this.repository.listClients(issuer)).filter((record) => record.origin === 'dynamic-registration');
    registrations.sort((a, b) => b.registeredAt - a.registeredAt);
    const ports = registrations.flatMap((record) => record.redirectUris.map(loopbackPort)).filter((port): port is number => port !== undefined);
    return [...new Set(ports)];
  }

  /** Keeps an identity a sign-in succeeded with; a new code-flow registration prunes the issuer's spare ones. */
  async remember(record: ClientRecord): Promise<void> {
    await this.repository.putClient(record);
    if (isCodeFlowRegistration(record)) await this.pruneSpareRegistrations(record);
  }

  /**
   * Forgets a stored registration that no account's credential is bound to; true when it did. For a registration the
   * server may have forgotten without saying so to anyone but the browser (see `AuthorizationCodeFlow`).
   */
  async forgetUnlessInUse(record: ClientRecord): Promise<boolean> {
    if (!(await this.repository.getClient(record.issuer, record.clientId))) return false;
    const credentials = await this.repository.listAllCredentials();
    if (credentials.some((credential) => credential.issuer === record.issuer && credential.clientId === record.clientId)) return false;
    await this.forget(record);
    return true;
  }

  /**
   * Forgets the issuer's code-flow registrations that no credential is bound to beyond the newest
   * SPARE_REGISTRATIONS_PER_ISSUER. `kept` (just remembered; its credential is stored next) is not counted and stays.
   */
  private async pruneSpareRegistrations(kept: ClientRecord): Promise<void> {
    const bound = new Set((await this.repository.listAllCredentials()).filter((credential) => credential.issuer === kept.issuer).map((credential) => credential.clientId));
    const spare = (await this.repository.listClients(kept.issuer))
      .filter((record) => isCodeFlowRegistration(record) && record.clientId !== kept.clientId && !bound.has(record.clientId))
      .sort((a, b) => b.registeredAt - a.registeredAt);
    for (const record of spare.slice(SPARE_REGISTRATIONS_PER_ISSUER)) await this.forget(record);
  }

  /** Forgets a registration the server no longer honours, so the next sign-in registers afresh. */
  async forget(record: ClientRecord): Promise<void> {
    await this.repository.deleteClient(record.issuer, record.clientId);
  }

  private async register(as: oauth.AuthorizationServer, config: ClientConfig, request: RegistrationRequest, policy: DestinationPolicy, signal?: AbortSignal): Promise<ClientRecord> {
    const authMethod = chooseRegistrationAuthMethod(as.token_endpoint_auth_methods_supported);
    let registered: oauth.OmitSymbolProperties<oauth.Client>;
    try {
      const response = await oauth.dynamicClientRegistrationRequest(as, {
        client_name: config.clientName,
        ...request,
        token_endpoint_auth_method: authMethod,
        application_type: 'native',
      }, this.http.oauthOptions('registration', policy, signal));
      registered = await oauth.processDynamicClientRegistrationResponse(await normalizeRegistrationResponse(response));
    } catch (error) {
      const failure = toKeyringError(error, 'client registration');
      if (failure.code === 'network' || failure.code === 'timeout' || failure.code === 'cancelled' || failure.code === 'forbidden_address' || failure.code === 'response_too_large') throw failure;
      const status = refusalStatus(error);
      if (status === 401 || status === 403) {
        // Registration that needs credentials we cannot have (Keycloak's initial access token, Okta's admin token) is
        // registration unavailable to us: the way on is a client registered there by someone who can.
        const redirect = request.redirect_uris[0];
        throw new KeyringError('registration_unavailable', `the authorization server ${as.issuer} refused anonymous client registration (HTTP ${status}): a client id registered there is needed${redirect ? `, allowing the redirect URI ${redirectUriHint(redirect)}` : ''}`, { cause: failure, missing: 'clientId' });
      }
      throw new KeyringError('registration_failed', `client registration at ${as.issuer} failed: ${failure.message}`, { cause: failure });
    }
    const grantedMethod = registered.token_endpoint_auth_method ?? authMethod;
    if (!isClientAuthMethod(grantedMethod)) throw new KeyringError('registration_failed', `the authorization server assigned a client authentication method MCP Keyring does not support (${typeof grantedMethod === 'string' && /^[\w-]{1,40}$/.test(grantedMethod) ? grantedMethod : 'unrecognised'})`);
    return {
      issuer: as.issuer,
      clientId: registered.client_id,
      clientSecret: typeof registered.client_secret === 'string' ? registered.client_secret : undefined,
      authMethod: grantedMethod,
      redirectUris: Array.isArray(registered.redirect_uris) ? registered.redirect_uris.filter((uri): uri is string => typeof uri === 'string') : request.redirect_uris,
      grantTypes: Array.isArray(registered.grant_types) ? registered.grant_types.filter((grant): grant is string => typeof grant === 'string') : request.grant_types,
      origin: 'dynamic-registration',
      registeredAt: this.now(),
    };
  }

}

/** The HTTP status of a refused registration, whichever way oauth4webapi reported it. */
function refusalStatus(error: unknown): number | undefined {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError) return error.status;
  if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response) return error.cause.status;
  return undefined;
}

/** The oauth4webapi client authentication for a client record. */
export function clientAuthentication(record: ClientRecord): oauth.ClientAuth {
  switch (record.authMethod) {
    case 'client_secret_basic':
      return clientSecretBasic(requireSecret(record));
    case 'client_secret_post':
      return oauth.ClientSecretPost(requireSecret(record));
    case 'private_key_jwt':
      return privateKeyJwt(record);
    case 'none':
      return oauth.None();
  }
}

export function oauthClient(record: ClientRecord): oauth.Client {
  return { client_id: record.clientId, token_endpoint_auth_method: record.authMethod };
}

/** RFC 7523 §2.2 assertions (iss = sub = client id, aud = issuer, 60 s, random jti), signed by oauth4webapi. */
function privateKeyJwt(record: ClientRecord): oauth.ClientAuth {
  const pem = record.privateKey;
  if (!pem) throw new KeyringError('usage', `client ${record.clientId} authenticates with private_key_jwt, but no private key is configured`, { missing: 'privateKey' });
  return async (as, client, body, headers) => {
    const { key } = await importPrivateKeyPem(pem, record.signingAlg);
    await oauth.PrivateKeyJwt({ key })(as, client, body, headers);
  };
}

function requireSecret(record: ClientRecord): string {
  if (!record.clientSecret) throw new KeyringError('usage', `client ${record.clientId} authenticates with a secret, but none is configured`, { missing: 'clientSecret' });
  return record.clientSecret;
}

function preRegistered(as: oauth.AuthorizationServer, config: ClientConfig & { clientId: string }, redirectUris: readonly string[], now: number): ClientRecord {
  const authMethod = config.authMethod ?? defaultPreRegisteredMethod(as, config);
  const base = { issuer: as.issuer, clientId: config.clientId, authMethod, redirectUris, origin: 'pre-registered', registeredAt: now } as const;
  if (authMethod === 'none') return base;
  if (authMethod === 'private_key_jwt') {
    if (!config.privateKey) throw new KeyringError('usage', 'the client authentication method private_key_jwt needs a private key', { missing: 'privateKey' });
    return { ...base, privateKey: config.privateKey, signingAlg: config.signingAlg };
  }
  if (!config.clientSecret) throw new KeyringError('usage', `the client authentication method ${authMethod} needs a client secret`, { missing: 'clientSecret' });
  return { ...base, clientSecret: config.clientSecret };
}

function defaultPreRegisteredMethod(as: oauth.AuthorizationServer, config: ClientConfig): ClientAuthMethod {
  if (config.privateKey) return 'private_key_jwt';
  return config.clientSecret ? chooseSecretMethod(as.token_endpoint_auth_methods_supported) : 'none';
}

/**
 * A registration serves a sign-in whose redirect URI it was made for, exactly: many servers match redirect URIs
 * exactly, port included, although RFC 8252 §7.3 asks them not to, and a mismatch shows only on their page in the
 * browser. So a sign-in listens on a registered port when it is free (`registeredLoopbackPorts`), and registers
 * anew for another port. A query (the web editor's per-request callback id) must match too.
 */
function isRegisteredFor(stored: ClientRecord, redirectUri: string): boolean {
  return stored.redirectUris.includes(redirectUri);
}

/** A native app is a public client: `none` where the server allows it (or says nothing), else a secret method. */
export function chooseRegistrationAuthMethod(supported: readonly string[] | undefined): ClientAuthMethod {
  if (!supported || supported.includes('none')) return 'none';
  return chooseSecretMethod(supported);
}

function chooseSecretMethod(supported: readonly string[] | undefined): ClientAuthMethod {
  if (!supported || supported.includes('client_secret_basic')) return 'client_secret_basic';
  if (supported.includes('client_secret_post')) return 'client_secret_post';
  throw new KeyringError('registration_failed', `the authorization server supports none of the client authentication methods MCP Keyring offers (${supported.join(', ')})`);
}

function isClientAuthMethod(value: unknown): value is ClientAuthMethod {
  return value === 'none' || value === 'client_secret_basic' || value === 'client_secret_post';
}

/** The redirect URI to register, in the form that also allows every port when it is a loopback one. */
export function redirectUriHint(redirectUri: string): string {
  return isLoopbackRedirect(redirectUri) ? `http://${new URL(redirectUri).hostname}/callback (any port)` : redirectUri;
}

/** A dynamic registration for the code flow (one with redirect URIs); the device flow's has none and is reused. */
function isCodeFlowRegistration(record: ClientRecord): boolean {
  return record.origin === 'dynamic-registration' && record.redirectUris.length > 0;
}

/** The port of a loopback redirect URI with an explicit port; undefined for any other URI. */
function loopbackPort(redirectUri: string): number | undefined {
  if (!isLoopbackRedirect(redirectUri)) return undefined;
  const { port } = new URL(redirectUri);
  return port === '' ? undefined : Number(port);
}

/** An RFC 8252 loopback redirect: plain http to a loopback address, on whatever port. */
function isLoopbackRedirect(redirectUri: string): boolean {
  try {
    const url = new URL(redirectUri);
    return url.protocol === 'http:' && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}
