// The engine's public face: sign in, hand out fresh tokens, authorize an MCP client's requests, sign out, and
// explain. Composes discovery, client identity, the code flow and the credential manager over injected ports.
import { createAuthorizedFetch, type CredentialSource } from './authorizedFetch';
import { accountOf } from './account';
import { findAccount, identify, inPreferenceOrder, preferredAmong, staleAfterSignIn, type IdentifiedAccount } from './accounts';
import type { DestinationPolicy } from './addresses';
import { AuthorizationCodeFlow, type AuthorizationRequestInput } from './authorizationCodeFlow';
import { findAuthorizationChallenge, parseChallenges, type Challenge } from './challenge';
import { ClientIdentities, type ClientConfig } from './clientIdentity';
import { CredentialManager, type RefreshContext, type TokenRenewal } from './credentialManager';
import { DeviceAuthorizationFlow, supportsDeviceAuthorization } from './deviceAuthorizationFlow';
import { Discoverer, type DiscoveryStep } from './discovery';
import { definedOnly } from './definedOnly';
import { DpopKeys, shouldUseDpop } from './dpop';
import { DiscoveryCache, agreesWithChallenge } from './discoveryCache';
import { KeyringError, isKeyringError, isSignInRequired, toKeyringError } from './errors';
import { Emitter, type CredentialChange, type Disposable } from './events';
import type { ExternalAccounts, ExternalSignIn, ExternalSignInRequest } from './externalAccounts';
import { HttpClient, type HttpClientOptions } from './http';
import { requestMachineTokens, type MachineGrant } from './machineGrants';
import { revokeToken, type TokenSet } from './oauthExchanges';
import { silentLogger, systemClock, type Clock, type FetchFn, type KeyringStore, type Logger, type Network, type OpenUrl, type CreateReceiver, type ShowDeviceCode } from './ports';
import { assertPkceAdvertised } from './pkceSupport';
import { accountId, decodeStoreKey, KeyringRepository, resourceIndicatorOf, serverKeyId, type ClientOrigin, type ClientRecord, type Credential, type StoredDiscovery } from './records';
import { migrateLegacyRecords } from './storeMigration';
import { redactingLogger } from './redact';
import { serverResourceIndicator } from './resourceIndicator';
import { parseScope, selectScopes } from './scopes';
import { canonicalServerUrl, parseServerUrl } from './urls';
import { resourceIndicatorFor, type ResourceSetting } from './vocabulary';

export const DEFAULT_CLIENT_NAME = 'MCP Keyring';

export interface KeyringDeps {
  readonly store: KeyringStore;
  /** For requests to the MCP server itself, which the person chose. */
  readonly fetch: FetchFn;
  /** For everything else: the MCP server's probe and whatever it names (metadata, registration, tokens). */
  readonly network: Network;
  readonly openUrl: OpenUrl;
  readonly createReceiver: CreateReceiver;
  /** Shows the user code of a device sign-in; by default the browser opens where the person confirms it. */
  readonly showDeviceCode?: ShowDeviceCode;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly timeoutMs?: number;
  readonly discoveryTtlMs?: number;
  /** Plain http to loopback authorization servers; default true (RFC 8252), the editor makes it a live setting. */
  readonly allowInsecureLoopback?: HttpClientOptions['allowInsecureLoopback'];
  /**
   * A server's own configuration (the editor's settings and secrets: client, grant, DPoP, scopes), so that every
   * caller obtaining tokens for it uses the same. What a caller passes explicitly wins.
   */
  readonly serverOptions?: (canonicalServerUrl: string) => Promise<ServerOptions | undefined>;
  /**
   * Accounts the front end already holds at some authorization servers (the editor's GitHub and Microsoft sign-ins),
   * offered before a client of our own when no client is configured; their credentials are renewed through it.
   */
  readonly externalAccounts?: ExternalAccounts;
}

/** The per-server part of sign-in options. */
export type ServerOptions = Pick<SignInOptions, 'client' | 'scopes' | 'dpop' | 'grant' | 'resource' | 'authorizationParameters' | 'assumePkce'>;

export interface SignInOptions {
  readonly client?: Partial<ClientConfig>;
  /** Scopes to request instead of those the servers suggest. */
  readonly scopes?: readonly string[];
  /** Which resource indicator to send (RFC 8707): the server's own by default (`auto`), none (`omit`), or this URI. */
  readonly resource?: ResourceSetting;
  /** Extra non-secret parameters of the authorization request (`audience` for Auth0, `access_type` for Google). */
  readonly authorizationParameters?: Readonly<Record<string, string>>;
  /**
   * The person asserts that the authorization server enforces PKCE although its metadata does not say so (Entra ID,
   * Cognito); without it such a server is refused with `pkce_unsupported`. PKCE is sent either way.
   */
  readonly assumePkce?: boolean;
  /** `device` signs in by device authorization (RFC 8628) instead of a browser redirect. */
  readonly flow?: SignInFlow;
  /** Shows a device sign-in's code instead of the keyring's `showDeviceCode` (for a UI tied to this sign-in). */
  readonly showDeviceCode?: ShowDeviceCode;
  /**
   * Bind the tokens to a key (RFC 9449): true or false as the user asked; by default only when the MCP server
   * challenges with the DPoP scheme and the authorization server accepts ES256 proofs.
   */
  readonly dpop?: boolean;
  /**
   * Obtain tokens with this grant instead of a browser sign-in. It needs no person, so it also runs where
   * `interactive` is false, and it renews a credential that has no refresh token.
   */
  readonly grant?: MachineGrant;
  /**
   * The authorization server the person confirmed for this server after an `issuer_changed`: the configured client
   * may be presented there, and belongs to it from then on.
   */
  readonly acceptIssuer?: string;
  /**
   * The account meant, by its label, subject or id. Getting a token uses that stored account instead of the server's
   * preferred one; a sign-in passes it to the authorization server as a hint (OpenID Connect `login_hint`).
   */
  readonly account?: string;
  /**
   * Add another account: the authorization server is asked to sign in afresh (OpenID Connect `prompt=login`) rather
   * than reuse the browser's session, which would sign in the same account again.
   */
  readonly anotherAccount?: boolean;
  readonly signal?: AbortSignal;
}

export type SignInFlow = 'authorizationCode' | 'device';

export interface TokenOptions extends SignInOptions {
  /** May the engine open the browser to sign in? */
  readonly interactive: boolean;
  /**
   * Told when a sign-in is needed but not allowed here (non-interactive), with the scopes it would ask for (for a
   * step-up), so that a caller with a user interface can run it at a better moment.
   */
  readonly onSignInNeeded?: (scopes: readonly string[] | undefined) => void;
}

export interface ProbeResult {
  readonly status: number;
  readonly challenges: readonly Challenge[];
  readonly requiresAuthorization: boolean;
  /** The challenge that asks for OAuth (Bearer, or DPoP from a server that takes only DPoP); absent when none does. */
  readonly authorizationChallenge?: Challenge;
}

/** One account of one server, as stored: no token in it. */
export interface CredentialStatus {
  readonly serverUrl: string;
  readonly resource: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientOrigin?: ClientOrigin;
  /** The account's label. */
  readonly account: string;
  /** The account's opaque id: stable, unique within the server, safe to show or put in an id. */
  readonly accountId: string;
  /** The server's preferred account: the one used when no caller names one. */
  readonly isPreferred: boolean;
  readonly scopes: readonly string[];
  readonly expiresAt?: number;
  readonly obtainedAt?: number;
  readonly hasRefreshToken: boolean;
  /** The token is DPoP-bound (RFC 9449): usable only with proofs from the stored key. */
  readonly dpopBound: boolean;
  readonly needsSignIn: boolean;
  readonly lastRefresh?: Credential['lastRefresh'];
}

/** The accounts of one server, from stored state only (no request): the preferred one first, then the others by label. */
export interface ServerAccounts {
  readonly serverUrl: string;
  readonly preferred?: CredentialStatus;
  readonly accounts: readonly CredentialStatus[];
}

export interface SignOutOptions {
  /** The account to sign out of (label, subject or id); without it, every account of the server. */
  readonly account?: string;
  readonly signal?: AbortSignal;
}

export interface SignOutResult {
  /** The labels of the accounts signed out. */
  readonly accounts: readonly string[];
  readonly revoked: readonly ('refresh_token' | 'access_token')[];
  readonly revocationSupported: boolean;
  readonly revocationError?: string;
}

export interface DiagnoseReport {
  readonly serverUrl: string;
  readonly probe?: ProbeResult;
  readonly steps: readonly DiscoveryStep[];
  readonly discovery?: StoredDiscovery;
  readonly clientIdentity?: string;
  readonly error?: { code: string; message: string };
}

export class Keyring {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly http: HttpClient;
  private readonly repository: KeyringRepository;
  private readonly discoverer: Discoverer;
  private readonly discoveries: DiscoveryCache;
  private readonly identities: ClientIdentities;
  private readonly codeFlow: AuthorizationCodeFlow;
  private readonly deviceFlow: DeviceAuthorizationFlow;
  private readonly credentials: CredentialManager;
  /** Per MCP server host: the class of the address its latest probe reached, trusted as long as a discovery. */
  private readonly policies = new Map<string, { readonly policy: Promise<DestinationPolicy>; readonly storedAt: number }>();
  private readonly dpopKeys = new DpopKeys();
  private readonly changes = new Emitter<CredentialChange>();
  /** Fires after every stored change of a credential: sign-in, refresh, needs sign-in, sign-out. */
  readonly onDidChangeCredentials = this.changes.event;
  private readonly externalAccountChanges: Disposable | undefined;

  private constructor(private readonly deps: KeyringDeps) {
    this.logger = redactingLogger(deps.logger ?? silentLogger);
    this.clock = deps.clock ?? systemClock;
    const now = () => this.clock.now();
    this.http = new HttpClient({ network: deps.network, logger: this.logger, timeoutMs: deps.timeoutMs, allowInsecureLoopback: deps.allowInsecureLoopback });
    this.repository = new KeyringRepository(deps.store, migrateLegacyRecords(deps.store, this.logger));
    this.discoverer = new Discoverer(this.http, now);
    this.discoveries = new DiscoveryCache(this.discoverer, this.repository, now, deps.discoveryTtlMs);
    this.identities = new ClientIdentities(this.http, this.repository, now);
    this.codeFlow = new AuthorizationCodeFlow({ http: this.http, identities: this.identities, openUrl: deps.openUrl, createReceiver: deps.createReceiver, logger: this.logger });
    const showDeviceCode = deps.showDeviceCode ?? ((prompt) => deps.openUrl(prompt.verificationUriComplete ?? prompt.verificationUri));
    this.deviceFlow = new DeviceAuthorizationFlow({ http: this.http, identities: this.identities, showDeviceCode, clock: this.clock, logger: this.logger });
    this.credentials = new CredentialManager({
      repository: this.repository,
      http: this.http,
      identities: this.identities,
      clock: this.clock,
      logger: this.logger,
      onChange: (change) => this.changes.fire(change),
      dpopKeys: this.dpopKeys,
    });
    this.externalAccountChanges = deps.externalAccounts?.onDidChangeAccounts((clientId) => void this.releaseEndedAccounts(clientId).catch((error: unknown) => {
      this.logger.warn(`[accounts] could not check the accounts lent under ${clientId} (${toKeyringError(error, 'lent accounts').code})`);
    }));
  }

  static create(deps: KeyringDeps): Keyring {
    return new Keyring(deps);
  }

  /** An unauthenticated MCP request, to learn whether and how the server wants authorization. */
  async probe(serverUrl: string, signal?: AbortSignal): Promise<ProbeResult> {
    const { status, headers } = await this.probeServer(parseServerUrl(serverUrl), signal).answer;
    const challenges = parseChallenges(headers.get('www-authenticate'));
    return { status, challenges, requiresAuthorization: status === 401 || status === 403, authorizationChallenge: findAuthorizationChallenge(challenges) };
  }

  /**
   * The whole flow: discovery, client identity, then the browser and the code exchange — or the configured machine
   * grant; stores the result.
   */
  async signIn(serverUrl: string, options: SignInOptions = {}, challenge?: Challenge): Promise<Credential> {
    const url = parseServerUrl(serverUrl);
    const configured = await this.withServerOptions(url, options);
    return this.signInWith(url, configured, challenge ?? (await this.announcedChallenge(url, options.signal)));
  }

  /** Whether the server's authorization server offers device authorization (RFC 8628). Discovers; stores nothing. */
  async offersDeviceAuthorization(serverUrl: string, signal?: AbortSignal): Promise<boolean> {
    const url = parseServerUrl(serverUrl);
    const discovery = await this.discoveries.get(url, canonicalServerUrl(url), await this.announcedChallenge(url, signal), () => this.policyFor(url), signal);
    return supportsDeviceAuthorization(discovery.authorizationServer);
  }

  /**
   * What the server asks of a client without a token: remembered from a recent sign-in, else asked with a probe
   * (the remembered one saves a warm sign-in that round trip).
   */
  private async announcedChallenge(url: URL, signal: AbortSignal | undefined): Promise<Challenge | undefined> {
    const remembered = await this.discoveries.rememberedChallenge(canonicalServerUrl(url));
    return remembered ?? (await this.probe(url.href, signal)).authorizationChallenge;
  }

  /**
   * Forgets the client registration used for a server, so the next sign-in registers afresh (for a registration the
   * server mishandles). Credentials stay until they fail.
   */
  async resetRegistration(serverUrl: string): Promise<void> {
    const canonical = canonicalServerUrl(parseServerUrl(serverUrl));
    const issuer = (await this.repository.listCredentials(canonical))[0]?.issuer ?? (await this.discoveries.stored(canonical))?.authorizationServer.issuer;
    for (const client of issuer ? await this.repository.listClients(issuer) : []) {
      if (client.origin !== 'pre-registered') await this.repository.deleteClient(client.issuer, client.clientId);
    }
    await this.discoveries.invalidate(canonical);
  }

  /**
   * Refreshes one account's credential now, due or not (the user asked, or the background scheduler); the preferred
   * account's when none is named. A credential that cannot be refreshed is marked as needing sign-in.
   */
  async refresh(serverUrl: string, options: { readonly account?: string; readonly signal?: AbortSignal } = {}): Promise<Credential> {
    const url = parseServerUrl(serverUrl);
    const { signal } = options;
    const account = await this.requireAccount(canonicalServerUrl(url), options.account);
    // A server configured with a machine grant renews by running it again when it has no refresh token.
    const renewal = this.renewalFor(url, account, await this.withServerOptions<TokenOptions>(url, { interactive: false, signal }));
    return this.credentials.fresh(account, () => this.refreshContext(url, account, signal), { kind: 'forced', token: account.accessToken }, renewal);
  }

  /** A server's accounts from stored state alone: what the view and the Accounts menu show, with no request made. */
  async accounts(serverUrl: string): Promise<ServerAccounts> {
    const canonical = canonicalServerUrl(parseServerUrl(serverUrl));
    const accounts = await this.statusesOf(canonical);
    return { serverUrl: canonical, preferred: accounts.find((account) => account.isPreferred), accounts };
  }

  /**
   * What a change of a store record made elsewhere (another editor window) means here. A deleted record no longer
   * names its server, so the server is looked for among `serverUrls` and those with credentials.
   */
  async changeOfStoreKey(key: string, serverUrls: readonly string[]): Promise<CredentialChange | undefined> {
    const subject = decodeStoreKey(key);
    if (subject.kind === 'other') return undefined;
    const candidates = new Set([...serverUrls, ...(await this.repository.listAllCredentials()).map((credential) => credential.serverUrl)]);
    let serverUrl: string | undefined;
    for (const candidate of candidates) if ((await serverKeyId(candidate)) === subject.serverId) serverUrl = candidate;
    if (serverUrl === undefined) return undefined;
    if (subject.kind === 'preferred') return { serverUrl, kind: 'preferredChanged' };
    const account = (await this.identified(serverUrl)).find(({ id }) => id === subject.accountId)?.credential;
    // A credential never refreshed yet was just signed in.
    const kind = !account ? 'signedOut' : account.needsSignIn ? 'needsSignIn' : account.lastRefresh ? 'refreshed' : 'signedIn';
    return { serverUrl, accountId: subject.accountId, kind };
  }

  /** Makes an account the server's preferred one, for every caller that names none (remembered in the store). */
  async setPreferredAccount(serverUrl: string, account: string): Promise<CredentialStatus> {
    const canonical = canonicalServerUrl(parseServerUrl(serverUrl));
    const chosen = findAccount(await this.identified(canonical), account);
    if (!chosen) throw notSignedInAs(canonical, account);
    await this.repository.putPreferred({ serverUrl: canonical, accountId: chosen.id });
    this.logger.info(`[accounts] ${canonical} now uses another preferred account`);
    this.changes.fire({ serverUrl: canonical, accountId: chosen.id, kind: 'preferredChanged' });
    return (await this.statusesOf(canonical)).find((status) => status.accountId === chosen.id)!;
  }

  /** Stops announcing changes; the keyring is not used after this. */
  dispose(): void {
    this.externalAccountChanges?.dispose();
    this.changes.dispose();
  }

  /**
   * The front end's accounts under `clientId` changed: a credential lent under it whose account the front end no
   * longer holds stops being used. It is marked as needing sign-in rather than deleted, so its server stays bound to
   * the front end (signing in again asks it, without an offer); nobody is asked from here, since this runs in the
   * background.
   */
  private async releaseEndedAccounts(clientId: string): Promise<void> {
    const external = this.deps.externalAccounts;
    if (!external?.owns(clientId)) return;
    for (const credential of await this.repository.listAllCredentials()) {
      if (credential.clientId !== clientId || credential.needsSignIn || (await external.holds(credential))) continue;
      await this.credentials.endSignIn(credential, 'signed_out', `the front end no longer holds the account lent to ${credential.serverUrl}`);
    }
  }

  /** Forgets what discovery learned about a server, so the next sign-in asks the servers again. */
  async forgetDiscovery(serverUrl: string): Promise<void> {
    await this.discoveries.invalidate(canonicalServerUrl(parseServerUrl(serverUrl)));
  }

  /** A credential valid now: refreshed when due; signing in only when `interactive`. */
  async getAccessToken(serverUrl: string, requested: TokenOptions): Promise<Credential> {
    const url = parseServerUrl(serverUrl);
    const options = await this.withServerOptions(url, requested);
    const canonical = canonicalServerUrl(url);
    const binding = await this.selectAccount(canonical, options.account);
    if (!binding) return this.signInIfAllowed(url, options, undefined, notSignedInAs(canonical, options.account));
    return this.freshOrSignIn(url, options, binding);
  }

  /** The bound account's credential, refreshed when due; a sign-in (if allowed) when it cannot be renewed. */
  private async freshOrSignIn(url: URL, options: TokenOptions, binding: Credential): Promise<Credential> {
    const canonical = canonicalServerUrl(url);
    // Another configured client is a new identity, not a renewal of the stored one: the person named the client to
    // use, and a credential of a registration (or of another client) is not it.
    if (options.client?.clientId !== undefined && options.client.clientId !== binding.clientId) {
      return this.signInIfAllowed(url, options, undefined, new KeyringError('not_signed_in', `the credential for ${canonical} belongs to another client than the configured one`));
    }
    try {
      return await this.credentials.fresh(binding, () => this.refreshContext(url, binding, options.signal), { kind: 'due' }, this.renewalFor(url, binding, options));
    } catch (error) {
      if (!isSignInRequired(error)) throw error;
      return this.signInIfAllowed(url, options, undefined, error);
    }
  }

  /** A fetch for an MCP client talking to `serverUrl`, with tokens attached and challenges answered. */
  fetchFor(serverUrl: string, options: TokenOptions): FetchFn {
    const url = parseServerUrl(serverUrl);
    const canonical = canonicalServerUrl(url);
    const source: CredentialSource = {
      // Called for every request the MCP client makes: the account is selected once, not again by getAccessToken.
      current: async () => {
        const configured = await this.withServerOptions(url, { ...options, interactive: false });
        const binding = await this.selectAccount(canonical, configured.account);
        return binding && this.freshOrSignIn(url, configured, binding).catch((error: unknown) => this.tolerateMissing(error));
      },
      recoverFromUnauthorized: async (rejected, challenge, isSecondTry) => this.recoverFromUnauthorized(url, rejected, challenge, isSecondTry, await this.withServerOptions(url, options)),
      refusedFreshToken: async (refused) => refusedFreshToken(refused, await this.withServerOptions(url, options), this.deps.externalAccounts),
      stepUp: async (scopes, challenge) => this.signInIfAllowed(url, { ...(await this.withServerOptions(url, options)), scopes }, challenge, new KeyringError('insufficient_scope', 'the server requires more scope than was granted')),
    };
    return createAuthorizedFetch(url, source, this.deps.fetch, this.dpopKeys);
  }

  /**
   * Signs out of one account (or of every account of the server): revokes at the server when it offers revocation
   * (refresh token first), then forgets that credential locally whatever happened. Other accounts stay signed in.
   */
  async signOut(serverUrl: string, options: SignOutOptions = {}): Promise<SignOutResult> {
    const url = parseServerUrl(serverUrl);
    const canonical = canonicalServerUrl(url);
    const accounts = await this.identified(canonical);
    const chosen = options.account === undefined ? accounts : accounts.filter((account) => account === findAccount(accounts, options.account!));
    if (chosen.length === 0) throw notSignedInAs(canonical, options.account);
    const revoked = new Set<'refresh_token' | 'access_token'>();
    let revocationSupported = false;
    let revocationError: string | undefined;
    for (const { id, credential } of chosen) {
      const outcome = await this.revoke(url, credential, options.signal);
      outcome.revoked.forEach((kind) => revoked.add(kind));
      revocationSupported ||= outcome.revocationSupported;
      revocationError ??= outcome.revocationError;
      await this.repository.deleteCredential(credential);
      this.changes.fire({ serverUrl: canonical, accountId: id, kind: 'signedOut' });
    }
    const preferred = await this.repository.getPreferred(canonical);
    if (chosen.some((account) => account.id === preferred?.accountId)) await this.repository.deletePreferred(canonical);
    if (chosen.length === accounts.length) await this.discoveries.invalidate(canonical);
    return { accounts: chosen.map(({ credential }) => credential.account), revoked: [...revoked], revocationSupported, revocationError };
  }

  private async revoke(url: URL, credential: Credential, signal: AbortSignal | undefined): Promise<Omit<SignOutResult, 'accounts'>> {
    const revoked: ('refresh_token' | 'access_token')[] = [];
    let revocationSupported = false;
    // The front end's account is the person's sign-in there (to GitHub in the editor): forgetting it here must not end it.
    if (this.deps.externalAccounts?.owns(credential.clientId)) return { revoked, revocationSupported };
    try {
      const context = await this.refreshContext(url, credential, signal);
      revocationSupported = Boolean(context.as.revocation_endpoint);
      if (credential.refreshToken && (await revokeToken(this.http, context.policy, context.as, context.client, credential.refreshToken, 'refresh_token', signal))) revoked.push('refresh_token');
      if (await revokeToken(this.http, context.policy, context.as, context.client, credential.accessToken, 'access_token', signal)) revoked.push('access_token');
      return { revoked, revocationSupported };
    } catch (error) {
      const revocationError = toKeyringError(error, 'sign-out').message;
      this.logger.warn(`[signOut] revocation failed (${revocationError}); forgetting the credential anyway`);
      return { revoked, revocationSupported, revocationError };
    }
  }

  /** Every account of one server, or of every server, the preferred account of each server first. */
  async status(serverUrl?: string, account?: string): Promise<CredentialStatus[]> {
    if (serverUrl !== undefined) return this.statusesOf(canonicalServerUrl(parseServerUrl(serverUrl)), account);
    const servers = [...new Set((await this.repository.listAllCredentials()).map((credential) => credential.serverUrl))].sort();
    return (await Promise.all(servers.map((server) => this.statusesOf(server, account)))).flat();
  }

  /** The server's accounts, the preferred one first; only the one `account` names, if given. */
  private async statusesOf(canonical: string, account?: string): Promise<CredentialStatus[]> {
    const accounts = await this.identified(canonical);
    const named = account === undefined ? undefined : findAccount(accounts, account);
    const ordered = inPreferenceOrder(accounts, await this.repository.getPreferred(canonical));
    return Promise.all(ordered.filter((each) => account === undefined || each === named).map(async ({ id, credential }) => {
      const client = await this.repository.getClient(credential.issuer, credential.clientId);
      return {
        serverUrl: credential.serverUrl,
        resource: credential.resource,
        issuer: credential.issuer,
        clientId: credential.clientId,
        clientOrigin: client?.origin,
        account: credential.account,
        accountId: id,
        isPreferred: id === ordered[0]!.id,
        scopes: credential.scopes,
        expiresAt: credential.expiresAt,
        obtainedAt: credential.obtainedAt,
        hasRefreshToken: Boolean(credential.refreshToken),
        dpopBound: Boolean(credential.dpopKey),
        needsSignIn: credential.needsSignIn,
        lastRefresh: credential.lastRefresh,
      };
    }));
  }

  private async identified(canonical: string): Promise<IdentifiedAccount[]> {
    return identify(await this.repository.listCredentials(canonical));
  }

  /** The stored account a caller means: the one named, else the server's preferred one. */
  private async selectAccount(canonical: string, selector: string | undefined): Promise<Credential | undefined> {
    const accounts = await this.identified(canonical);
    const chosen = selector === undefined ? preferredAmong(accounts, await this.repository.getPreferred(canonical)) : findAccount(accounts, selector);
    return chosen?.credential;
  }

  private async requireAccount(canonical: string, selector: string | undefined): Promise<Credential> {
    const account = await this.selectAccount(canonical, selector);
    if (!account) throw notSignedInAs(canonical, selector);
    return account;
  }

  /** Every discovery step, fresh (no cache), with what was learned and why it moved on. Never throws for server faults. */
  async diagnose(serverUrl: string, signal?: AbortSignal): Promise<DiagnoseReport> {
    const url = parseServerUrl(serverUrl);
    const canonical = canonicalServerUrl(url);
    const steps: DiscoveryStep[] = [];
    let probe: DiagnoseReport['probe'];
    try {
      probe = await this.probe(serverUrl, signal);
      const discovery = await this.discoverer.discover(url, probe.authorizationChallenge, await this.policyFor(url), signal, steps);
      const { trace, ...record } = discovery;
      return { serverUrl: canonical, probe, steps, discovery: record, clientIdentity: describeClientOptions(record) };
    } catch (error) {
      const failure = toKeyringError(error, 'diagnose');
      return { serverUrl: canonical, probe, steps, error: { code: failure.code, message: failure.message } };
    }
  }

  private async signInWith(url: URL, options: SignInOptions, challenge: Challenge | undefined): Promise<Credential> {
    const canonical = canonicalServerUrl(url);
    const discovery = await this.discoveries.get(url, canonical, challenge, () => this.policyFor(url), options.signal);
    const policy = await this.policyOf(url, discovery);
    const as = discovery.authorizationServer;
    const scopes = selectScopes({
      configured: options.scopes,
      challenged: parseScope(challenge?.params.scope),
      resourceSupported: discovery.resourceScopes,
      // A machine grant has no user session to keep alive offline.
      authorizationServerSupported: options.grant ? undefined : as.scopes_supported,
    });
    const client: ClientConfig = { clientName: DEFAULT_CLIENT_NAME, ...(await this.boundPreRegisteredClient(canonical, as.issuer)), ...options.client };
    await this.assertClientBelongsTo(canonical, client.clientId, as.issuer, options.acceptIssuer);
    const resource = resourceIndicatorFor(serverResourceIndicator(discovery), options.resource);
    // A configured client (or grant) is the person's choice over any account the front end could lend.
    const external = options.grant || client.clientId !== undefined ? undefined : await this.externalSignIn({ serverUrl: canonical, issuer: as.issuer, resource, scopes, isAnotherAccount: options.anotherAccount === true, account: options.account, signal: options.signal });
    if (external) {
      await this.discoveries.remember(discovery, challenge);
      const identity = { serverUrl: canonical, resource: discovery.resource, issuer: as.issuer, clientId: external.clientId, account: external.account, subject: external.subject };
      return this.storeSignIn(await this.credentials.storeNew(identity, external.tokens, scopes, resource), options);
    }
    // Only the code flow uses PKCE; the device flow and machine grants do not depend on it.
    if (!options.grant && options.flow !== 'device') assertPkceAdvertised(as, options.assumePkce);
    const dpop = shouldUseDpop(options.dpop, challenge, as.dpop_signing_alg_values_supported) ? await this.dpopKeys.create() : undefined;
    const obtained = options.grant
      ? await this.runMachineGrant(options.grant, { as, client, scopes, resource, policy, dpop, signal: options.signal })
      : await this.runInteractiveFlow({ serverUrl: canonical, as, client, scopes, resource, extraParameters: options.authorizationParameters, policy, dpop, signal: options.signal }, options);
    const { tokens, client: record } = obtained;
    // RFC 9449 §5 lets a client expecting a bound token discard a Bearer one; a binding the person asked for is not
    // silently dropped (by default, DPoP is used only where offered, and a Bearer answer is taken as it is).
    if (options.dpop === true && !tokens.dpopKey) {
      throw new KeyringError('token_failed', 'the authorization server issued an unbound (Bearer) token although a DPoP-bound one (RFC 9449) was asked for; nothing was stored');
    }
    await this.discoveries.remember(discovery, challenge);
    await this.identities.remember(record);
    const identity = { serverUrl: canonical, resource: discovery.resource, issuer: as.issuer, clientId: record.clientId, ...accountOf(tokens, as.issuer) };
    return this.storeSignIn(await this.credentials.storeNew(identity, tokens, scopes, resource), options);
  }

  /** After a sign-in stored its credential: settles the server's accounts, announces it, checks the account named. */
  private async storeSignIn(credential: Credential, options: SignInOptions): Promise<Credential> {
    const canonical = credential.serverUrl;
    const accountId = await this.settleAccounts(credential, options.anotherAccount === true);
    this.logger.info(`[signIn] signed in to ${canonical}`);
    this.changes.fire({ serverUrl: canonical, accountId, kind: 'signedIn' });
    if (options.account !== undefined && !findAccount(await identify([credential]), options.account)) {
      throw new KeyringError('account_mismatch', `signed in to ${canonical} as ${credential.account}, not as ${options.account}; that account was kept`);
    }
    return credential;
  }

  /** The front end's own account at this issuer, when it has one and the person takes it. */
  private async externalSignIn(request: Omit<ExternalSignInRequest, 'hasSignedInBefore'>): Promise<ExternalSignIn | undefined> {
    const external = this.deps.externalAccounts;
    if (!external) return undefined;
    const { serverUrl, issuer } = request;
    const hasSignedInBefore = (await this.repository.listCredentials(serverUrl)).some((credential) => credential.issuer === issuer && external.owns(credential.clientId));
    const signedIn = await external.signIn({ ...request, hasSignedInBefore });
    if (signedIn && !external.owns(signedIn.clientId)) throw new KeyringError('token_failed', 'the front end lent an account under a client id it does not own');
    if (signedIn) this.logger.info(`[signIn] ${serverUrl} uses an account the front end holds at ${issuer}`);
    return signedIn;
  }

  /** The person approves: in the browser the code flow sends them to, or wherever they enter a device's code. */
  private async runInteractiveFlow(input: AuthorizationRequestInput, options: SignInOptions): Promise<{ tokens: TokenSet; client: ClientRecord }> {
    this.logger.info(`[signIn] signing in to ${input.serverUrl} at ${input.as.issuer}`);
    const run = options.flow === 'device'
      ? this.deviceFlow.run({ ...input, showDeviceCode: options.showDeviceCode })
      : this.codeFlow.run({ ...input, loginHint: options.account, isAnotherAccount: options.anotherAccount });
    return run.catch((error: unknown) => {
      throw input.scopes.length === 0 && isKeyringError(error, 'access_denied')
        ? new KeyringError('access_denied', `${error.message}; no scope was requested because the server suggested none — name the scopes to request`, { cause: error, missing: 'scopes' })
        : error;
    });
  }

  private async runMachineGrant(grant: MachineGrant, input: Omit<AuthorizationRequestInput, 'serverUrl'>): Promise<{ tokens: TokenSet; client: ClientRecord }> {
    const client = await this.identities.preRegistered(input.as, input.client);
    this.logger.info(`[signIn] requesting tokens with the ${grant.kind} grant at ${input.as.issuer}`);
    return { tokens: await requestMachineTokens(grant, { ...input, http: this.http, client }), client };
  }

  /**
   * A server signed in with a pre-registered client keeps using it when signing in again without naming one (a
   * refresh that failed, a step-up), as long as the authorization server is the same.
   */
  private async boundPreRegisteredClient(serverUrl: string, issuer: string): Promise<Partial<ClientConfig>> {
    for (const account of await this.repository.listCredentials(serverUrl)) {
      if (account.issuer !== issuer) continue;
      const client = await this.repository.getClient(account.issuer, account.clientId);
      if (client?.origin !== 'pre-registered') continue;
      return { clientId: client.clientId, clientSecret: client.clientSecret, privateKey: client.privateKey, signingAlg: client.signingAlg, authMethod: client.authMethod };
    }
    return {};
  }

  /**
   * A configured client belongs to the authorization server it first signed in at (recorded in the server's credentials):
   * a server that names another one later gets neither its secret, nor its key, nor an assertion, until the person
   * confirms the new issuer.
   */
  private async assertClientBelongsTo(serverUrl: string, clientId: string | undefined, issuer: string, acceptedIssuer: string | undefined): Promise<void> {
    if (clientId === undefined || issuer === acceptedIssuer) return;
    const binding = (await this.repository.listCredentials(serverUrl)).find((account) => account.clientId === clientId && account.issuer !== issuer);
    if (!binding) return;
    throw new KeyringError(
      'issuer_changed',
      `${serverUrl} now names the authorization server ${issuer} instead of ${binding.issuer}, where its configured client is registered; nothing was sent to it`,
      { hint: { kind: 'issuerChange', previousIssuer: binding.issuer, issuer } },
    );
  }

  /**
   * After a sign-in: purges the credentials it made stale, so nothing is orphaned, and settles the server's preferred
   * account. A sign-in that adds another account leaves the preference alone unless there is none; any other sign-in is
   * the person getting the server working again, so its account becomes preferred when the preferred one cannot serve
   * (gone, or needing sign-in) — a switch the person made by signing in, never one made for them. Returns its id.
   */
  private async settleAccounts(signedIn: Credential, isAnotherAccount: boolean): Promise<string> {
    const ownId = await accountId(signedIn);
    const stale = staleAfterSignIn(await this.identified(signedIn.serverUrl), signedIn).filter((account) => account.id !== ownId);
    for (const { credential } of stale) await this.repository.deleteCredential(credential);
    const preferred = await this.repository.getPreferred(signedIn.serverUrl);
    const current = (await this.identified(signedIn.serverUrl)).find((account) => account.id === preferred?.accountId);
    const canServe = current !== undefined && !current.credential.needsSignIn;
    if (!current || (!canServe && !isAnotherAccount)) await this.repository.putPreferred({ serverUrl: signedIn.serverUrl, accountId: ownId });
    return ownId;
  }

  private async recoverFromUnauthorized(url: URL, rejected: Credential | undefined, challenge: Challenge | undefined, isSecondTry: boolean, options: TokenOptions): Promise<Credential> {
    const canonical = canonicalServerUrl(url);
    const cached = await this.discoveries.stored(canonical);
    const namesOtherMetadata = cached !== undefined && !agreesWithChallenge(cached, challenge);
    // A second 401 for a fresh token, or a challenge pointing elsewhere: what we know about the server is stale.
    if (isSecondTry || namesOtherMetadata) await this.discoveries.invalidate(canonical);
    if (isSecondTry && rejected && (await this.wouldSignInAlike(url, rejected, challenge, options.signal))) {
      throw refusedFreshToken(rejected, options, this.deps.externalAccounts);
    }
    const binding = rejected && (await this.repository.getCredential(rejected));
    if (rejected && binding && !isSecondTry && !namesOtherMetadata) {
      try {
        return await this.credentials.fresh(binding, () => this.refreshContext(url, binding, options.signal), { kind: 'rejected', token: rejected.accessToken }, this.renewalFor(url, binding, options));
      } catch (error) {
        if (!isSignInRequired(error)) throw error;
      }
    }
    return this.signInIfAllowed(url, options, challenge, new KeyringError('unauthorized', `${canonical} requires sign-in`));
  }

  /**
   * Whether signing in again would end like the sign-in that just obtained `rejected`: that sign-in's token was refused
   * at once, and the server, asked afresh, still names the same authorization server and resource. Then a second
   * sign-in would only send the person to the browser for another token the server refuses (Auth0 without
   * `audience`). A token obtained by a refresh is not such evidence: a sign-in may well be granted what a refresh was not.
   */
  private async wouldSignInAlike(url: URL, rejected: Credential, challenge: Challenge | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    if (rejected.lastRefresh) return false;
    const current = await this.discoveries.get(url, canonicalServerUrl(url), challenge, () => this.policyFor(url), signal);
    return current.authorizationServer.issuer === rejected.issuer && current.resource === rejected.resource;
  }

  /**
   * For a credential the front end lent: ask it again. For a caller with a machine grant: run it again when the
   * credential has no refresh token to renew it with.
   */
  private renewalFor(url: URL, binding: Credential, options: TokenOptions): TokenRenewal | undefined {
    const external = this.deps.externalAccounts;
    if (external?.owns(binding.clientId)) {
      return (latest, trigger) => external.renew(latest, { trigger, interactive: options.interactive, signal: options.signal });
    }
    const { grant } = options;
    if (!grant) return undefined;
    return async (latest) => {
      const { as, client, policy, signal } = await this.refreshContext(url, binding, options.signal);
      const dpop = latest.dpopKey ? await this.dpopKeys.bindingFor(latest.dpopKey) : undefined;
      return requestMachineTokens(grant, { http: this.http, policy, as, client, resource: resourceIndicatorOf(latest), scopes: latest.scopes, dpop, signal });
    };
  }

  private async signInIfAllowed(url: URL, options: TokenOptions, challenge: Challenge | undefined, refusal: KeyringError): Promise<Credential> {
    // A machine grant needs no person, so it runs even where a browser sign-in may not.
    if (!options.interactive && !options.grant) {
      options.onSignInNeeded?.(options.scopes);
      throw refusal;
    }
    // A named account is signed in afresh (the browser's session may be another account's), and must be the one named.
    const forAccount = options.account === undefined ? options : { ...options, anotherAccount: true };
    return challenge ? this.signInWith(url, forAccount, challenge) : this.signIn(url.href, forAccount);
  }

  /** The caller's options over the server's configured ones; the client configuration merges field by field. */
  private async withServerOptions<T extends SignInOptions>(url: URL, options: T): Promise<T> {
    const configured = await this.deps.serverOptions?.(canonicalServerUrl(url));
    if (!configured) return options;
    return { ...configured, ...definedOnly(options), client: { ...configured.client, ...definedOnly(options.client ?? {}) } } as T;
  }

  private tolerateMissing(error: unknown): undefined {
    if (isSignInRequired(error)) return undefined;
    throw error;
  }

  /** What a refresh or revocation needs: the bound issuer's metadata and client. A changed issuer means a new sign-in. */
  private async refreshContext(url: URL, binding: Credential, signal?: AbortSignal): Promise<RefreshContext> {
    const discovery = (await this.discoveries.stored(binding.serverUrl)) ?? (await this.rediscover(url, binding.serverUrl, signal));
    if (discovery.authorizationServer.issuer !== binding.issuer) {
      throw new KeyringError('needs_sign_in', `${binding.serverUrl} now uses another authorization server; sign in again`);
    }
    const client = await this.repository.getClient(binding.issuer, binding.clientId);
    if (!client) throw new KeyringError('needs_sign_in', `the client registration for ${binding.serverUrl} is gone; sign in again`);
    return { as: discovery.authorizationServer, client, policy: await this.policyOf(url, discovery), signal };
  }

  private async rediscover(url: URL, canonical: string, signal?: AbortSignal): Promise<StoredDiscovery> {
    const discovery = await this.discoveries.get(url, canonical, undefined, () => this.policyFor(url), signal);
    await this.discoveries.remember(discovery, undefined);
    return discovery;
  }

  /**
   * The policy a discovery was made under, so its endpoints are used where they were checked; for no longer than a
   * discovery is trusted, since the server's name may lead elsewhere by now.
   */
  private policyOf(url: URL, discovery: StoredDiscovery): Promise<DestinationPolicy> {
    return discovery.serverAddressClass && this.discoveries.isFresh(discovery) ? Promise.resolve({ serverAddressClass: discovery.serverAddressClass }) : this.policyFor(url);
  }

  /** What the MCP server's servers may reach: learned from a recent probe, or from a probe now. */
  private policyFor(url: URL): Promise<DestinationPolicy> {
    const known = this.policies.get(url.hostname);
    if (!known || !this.discoveries.isFresh(known)) return this.probeServer(url).policy;
    // A probe started for another caller is cancelled when that caller gives up; this caller did not. The cancelled
    // probe is forgotten by then, so the callers still waiting share one new probe, which no caller can cancel.
    return known.policy.catch((error: unknown) => {
      if (isKeyringError(error, 'cancelled')) return this.policyFor(url);
      throw error;
    });
  }

  /**
   * The unauthenticated request that asks the server what it needs. The class of the address that answered sets the
   * server's policy: where the network reports the address it connected to (the command line's), a name that once
   * resolves privately unlocks nothing it did not connect to; the editor's network classifies the lookup made just
   * before the request (see `lookupCheckedNetwork.ts`).
   */
  private probeServer(url: URL, signal?: AbortSignal): { answer: Promise<{ status: number; headers: Headers }>; policy: Promise<DestinationPolicy> } {
    const answer = this.http.probe(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-keyring-probe', version: '0' } } }),
      signal,
    });
    const policy = answer.then(({ addressClass }) => ({ serverAddressClass: addressClass }));
    const known = { policy, storedAt: this.clock.now() };
    policy.catch(() => {
      if (this.policies.get(url.hostname) === known) this.policies.delete(url.hostname);
    });
    this.policies.set(url.hostname, known);
    return { answer, policy };
  }
}

/**
 * A token the server refused right after it was obtained was most likely not issued for it. A common cause is an
 * authorization server that ignores `resource` and takes the audience from a parameter of its own: Auth0 hands out a
 * token for its userinfo endpoint without `audience` (github.com/microsoft/vscode/issues/274226). Named unless one is
 * configured, or the token is one a front end lent: its provider chose that token, and no parameter of ours reaches
 * it, so what is left to suspect is the account's own access.
 */
function refusedFreshToken(refused: Credential | undefined, options: SignInOptions, external: ExternalAccounts | undefined): KeyringError {
  if (refused && external?.owns(refused.clientId)) {
    return new KeyringError('unauthorized', `${refused.serverUrl} refused the token of the account the front end lent, obtained a moment ago; that account may lack access to it`);
  }
  if (options.authorizationParameters?.audience !== undefined) return new KeyringError('unauthorized', 'the server refused a freshly obtained token');
  return new KeyringError('unauthorized', 'the server refused a freshly obtained token, most likely issued for something else (an authorization server that ignores the resource parameter, such as Auth0, needs an audience parameter)', { missing: 'audience' });
}

/** Every way the server offers to identify a client without a pre-registered id, in the order sign-in prefers them. */
function describeClientOptions(discovery: StoredDiscovery): string {
  const as = discovery.authorizationServer;
  const offered = [
    ...(as.client_id_metadata_document_supported === true ? ['client ID metadata documents are supported (used when a client metadata URL is configured)'] : []),
    ...(as.registration_endpoint ? ['dynamic client registration is available'] : []),
  ];
  return offered.length > 0 ? offered.join('; ') : 'no registration: a pre-registered client id is needed';
}

function notSignedInAs(serverUrl: string, account: string | undefined): KeyringError {
  return new KeyringError('not_signed_in', account === undefined ? `not signed in to ${serverUrl}` : `not signed in to ${serverUrl} as ${account}`);
}
