// The real servers a test in the editor signs in to: one oidc-provider authorization server and two OAuth-protected
// MCP servers (one signed in to the editor's way, one configured for a loopback redirect), an app running better-auth
// with an MCP server of its own, the user settings that name them, and a record of the traffic the editor sends them,
// observed from outside the fixtures.
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mountAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startBetterAuthServer, type BetterAuthServer } from '../fixtures/betterAuthServer';
import type { RequestHandler } from '../fixtures/listenOnLoopback';
import { startForwardProxy } from '../fixtures/forwardProxy';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { startStaticCredentialServer, type StaticCredentialServer } from './staticCredentialServer';

export interface EditorFixtureOptions {
  /** Lifetime of the access tokens the authorization server issues; default one hour. */
  readonly accessTokenTtlSeconds?: number;
  /** 'opaque' tokens die with their grant when the refresh token is revoked; default 'jwt'. */
  readonly accessTokenFormat?: 'jwt' | 'opaque';
  /**
   * Registration ignores a `scope` field instead of refusing it. VS Code's own MCP sign-in registers with the
   * resource's scopes, which oidc-provider refuses (`invalid_client_metadata`: they are not its OpenID scopes), as many
   * hosted authorization servers do not; the bench's run of that sign-in needs it. Default off.
   */
  readonly registrationIgnoresScope?: boolean;
}

/** What the in-editor suite needs to know about the fixtures; JSON, it travels in an environment variable. */
export interface EditorFixtureConfig {
  readonly [name: string]: unknown;
  /** The MCP server signed in to with the editor's default redirect (the URI handler in code-server). */
  readonly serverUrl: string;
  /** The MCP server whose settings entry asks for a loopback redirect. */
  readonly loopbackServerUrl: string;
  /** An MCP server in no settings entry: the device code test adds one asking for the device code strategy. */
  readonly deviceServerUrl: string;
  /** An MCP server in no settings entry: the step-up test adds it and calls a tool needing more scope than granted. */
  readonly stepUpServerUrl: string;
  /** An MCP server in no settings entry, behind better-auth (its own sign-in and consent pages, issuer at /api/auth). */
  readonly betterAuthServerUrl: string;
  /** An MCP server in no settings entry: the view test adds it, reads the view and makes its refresh fail. */
  readonly viewServerUrl: string;
  readonly issuer: string;
  /** The account the authorization pages sign in as. */
  readonly login: string;
  /** MCP servers without OAuth: one wants a static bearer token, one an API key in `apiKeyHeader`. */
  readonly bearerServerUrl: string;
  readonly apiKeyServerUrl: string;
  readonly apiKeyHeader: string;
  /** A loopback address the editor reaches only through the person's proxy (`http.proxy`), which routes it to 127.0.0.1. */
  readonly onlyThroughProxy: string;
}

/** A client registration the authorization server answered (RFC 7591 response, without the secret). */
export interface ObservedRegistration {
  readonly status: number;
  readonly clientId?: string;
  readonly clientName?: string;
  readonly redirectUris: readonly string[];
}

/** What one MCP server was sent, seen on the wire next to the fixture. */
export interface McpTraffic {
  readonly requestCount: number;
  /** Every `mcp-session-id` a request carried. */
  readonly sessionIds: ReadonlySet<string>;
  /** Authorized POSTs that carried no session id: the initialize requests that open MCP sessions. */
  readonly initializeRequests: number;
  /** The age of the oldest access token a request carried, from the token endpoint's answer; 0 before any. */
  readonly oldestTokenSentMs: number;
}

/** Every token the token endpoint handed out, oldest first (for leak checks and revocation checks). */
export interface IssuedTokens {
  readonly accessTokens: readonly string[];
  readonly refreshTokens: readonly string[];
  /** The `code` of every authorization code exchange the token endpoint was sent, as it decoded it. */
  readonly exchangedCodes: readonly string[];
}

export interface EditorFixtures extends AsyncDisposable {
  readonly authorizationServer: AuthorizationServer;
  readonly mcpServer: McpServer;
  readonly loopbackMcpServer: McpServer;
  readonly bearerServer: StaticCredentialServer;
  readonly apiKeyServer: StaticCredentialServer;
  readonly deviceMcpServer: McpServer;
  readonly stepUpMcpServer: McpServer;
  readonly viewMcpServer: McpServer;
  /** Accepts only DPoP-bound tokens (with nonces); configured in the suite for the client credentials grant. */
  readonly machineMcpServer: McpServer;
  readonly betterAuthServer: BetterAuthServer;
  /** The secret of MACHINE_CLIENT_ID, which only the runner knows (it types it into the editor). */
  readonly machineClientSecret: string;
  readonly config: EditorFixtureConfig;
  /** The profile's User/settings.json: the servers. */
  readonly userSettings: Record<string, unknown>;
  /** The server's Machine/settings.json: machine-scoped settings (allowInsecureLoopback), which a remote window reads there only. */
  readonly machineSettings: Record<string, unknown>;
  /** Registrations at the authorization server, in order. */
  readonly registrations: readonly ObservedRegistration[];
  readonly issuedTokens: IssuedTokens;
  /** Every token better-auth's token endpoint handed out, for the leak scan. */
  readonly betterAuthIssuedTokens: Pick<IssuedTokens, 'accessTokens' | 'refreshTokens'>;
  trafficTo(server: McpServer): McpTraffic;
  /** Every request any fixture server was sent (the authorization server's and the MCP servers', with or without OAuth). */
  requestsServed(): number;
  close(): Promise<void>;
}

const LOGIN = 'alice';

/**
 * Loopback, but not what the editor calls localhost (`localhost`, `127.0.0.1`, `0.0.0.0`): URLs on it reach the
 * browser as they are, like a real authorization server's, instead of through code-server's port proxy.
 */
export const AUTHORIZATION_SERVER_HOST = '127.0.0.2';
/**
 * Reached only through the proxy the editor is configured with: the editor goes direct to localhost and 127.0.0.1 on
 * its own, and to the authorization server's 127.0.0.2 by `http.noProxy`; this one it sends to the proxy.
 */
const ONLY_THROUGH_PROXY_HOST = '127.0.0.3';

interface MutableTraffic {
  requestCount: number;
  sessionIds: Set<string>;
  initializeRequests: number;
  oldestTokenSentMs: number;
}

interface ServerMessage {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly server: Server;
}

/** `127.0.0.2:4711`: the authorization server and the MCP servers listen on different addresses, perhaps one port. */
function hostOf(origin: string): string {
  return new URL(origin).host;
}

/** Keeps the body a response sends, without changing what is sent. */
function recordBody(response: ServerResponse, onEnd: (body: string) => void): void {
  const chunks: Buffer[] = [];
  const keep = (chunk: unknown): void => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  Object.assign(response, {
    write: (...args: unknown[]) => (keep(args[0]), write(...args)),
    end: (...args: unknown[]) => {
      if (typeof args[0] !== 'function') keep(args[0]);
      return end(...args);
    },
  });
  response.once('finish', () => onEnd(Buffer.concat(chunks).toString('utf8')));
}

function registrationFrom(status: number, body: string): ObservedRegistration {
  try {
    const parsed = JSON.parse(body) as { client_id?: string; client_name?: string; redirect_uris?: string[] };
    return { status, clientId: parsed.client_id, clientName: parsed.client_name, redirectUris: parsed.redirect_uris ?? [] };
  } catch {
    return { status, redirectUris: [] };
  }
}

/** Keeps the body a request carries as its consumer reads it, without reading it itself (which would change the flow). */
function recordRequestBody(request: IncomingMessage, onEnd: (body: string) => void): void {
  const chunks: Buffer[] = [];
  const emit = request.emit.bind(request) as (event: string | symbol, ...args: unknown[]) => boolean;
  Object.assign(request, {
    emit: (event: string | symbol, ...args: unknown[]) => {
      if (event === 'data') chunks.push(Buffer.from(args[0] as Uint8Array));
      if (event === 'end') onEnd(Buffer.concat(chunks).toString('utf8'));
      return emit(event, ...args);
    },
  });
}

function keepExchangedCode(codes: string[], body: string): void {
  const form = new URLSearchParams(body);
  const code = form.get('code');
  if (form.get('grant_type') === 'authorization_code' && code !== null) codes.push(code);
}

function keepTokens(issued: { accessTokens: string[]; refreshTokens: string[] }, issuedAt: Map<string, number>, body: string): void {
  try {
    const parsed = JSON.parse(body) as { access_token?: string; refresh_token?: string };
    if (parsed.access_token) issued.accessTokens.push(parsed.access_token);
    if (parsed.access_token) issuedAt.set(parsed.access_token, performance.now());
    if (parsed.refresh_token) issued.refreshTokens.push(parsed.refresh_token);
  } catch {
    // An error page; it issued nothing.
  }
}

/**
 * Watches every HTTP request this process serves (node's diagnostics channel, before the fixture's handler runs) and
 * records registrations, issued tokens and MCP sessions. The fixtures themselves stay as the engine tests use them.
 */
function observeTraffic(authorizationServer: AuthorizationServer, mcpServers: readonly McpServer[], otherServers: readonly { readonly url: string }[], otherTokenEndpoints: readonly string[]) {
  const registrationPath = new URL(authorizationServer.endpoints.registration ?? 'http://invalid/').pathname;
  /** What other authorization servers' token endpoints issued, kept apart for the leak scan alone. */
  const otherIssuedTokens = { accessTokens: [] as string[], refreshTokens: [] as string[] };
  const otherEndpoints = new Set(otherTokenEndpoints.map((endpoint) => `${hostOf(endpoint)}${new URL(endpoint).pathname}`));
  const tokenPath = new URL(authorizationServer.endpoints.token).pathname;
  const issuedTokens = { accessTokens: [] as string[], refreshTokens: [] as string[], exchangedCodes: [] as string[] };
  /** When the token endpoint answered with each access token: opaque tokens carry no `iat` to read an age from. */
  const accessTokenIssuedAt = new Map<string, number>();
  const authorizationHost = hostOf(authorizationServer.issuer);
  const registrations: ObservedRegistration[] = [];
  const traffic = new Map<string, MutableTraffic>(
    mcpServers.map((server) => [hostOf(server.origin), { requestCount: 0, sessionIds: new Set(), initializeRequests: 0, oldestTokenSentMs: 0 }]),
  );
  const fixtureHosts = new Set([authorizationHost, ...mcpServers.map((server) => hostOf(server.origin)), ...otherServers.map((server) => hostOf(server.url))]);
  let requestsServed = 0;
  const onRequest = (message: unknown): void => {
    const { request, response, server } = message as ServerMessage;
    const address = server.address() as AddressInfo | null;
    const host = address ? `${address.address}:${address.port}` : undefined;
    if (host !== undefined && fixtureHosts.has(host)) requestsServed += 1;
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (host === authorizationHost && request.method === 'POST' && path === registrationPath) {
      recordBody(response, (body) => registrations.push(registrationFrom(response.statusCode, body)));
    }
    if (host === authorizationHost && request.method === 'POST' && path === tokenPath) {
      recordRequestBody(request, (body) => keepExchangedCode(issuedTokens.exchangedCodes, body));
      recordBody(response, (body) => keepTokens(issuedTokens, accessTokenIssuedAt, body));
    }
    if (request.method === 'POST' && otherEndpoints.has(`${host}${path}`)) {
      recordBody(response, (body) => keepTokens(otherIssuedTokens, new Map(), body));
    }
    const record = host === undefined ? undefined : traffic.get(host);
    if (record && path === '/mcp') {
      record.requestCount += 1;
      const sessionId = request.headers['mcp-session-id'];
      if (typeof sessionId === 'string') record.sessionIds.add(sessionId);
      else if (request.method === 'POST' && request.headers.authorization) record.initializeRequests += 1;
      const issuedAt = accessTokenIssuedAt.get(/^\S+\s+(\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
      if (issuedAt !== undefined) record.oldestTokenSentMs = Math.max(record.oldestTokenSentMs, performance.now() - issuedAt);
    }
  };
  subscribe('http.server.request.start', onRequest);
  return {
    registrations,
    issuedTokens,
    otherIssuedTokens,
    trafficTo: (server: McpServer): McpTraffic => {
      const record = traffic.get(hostOf(server.origin));
      if (!record) throw new Error(`${server.url} is not one of the editor fixtures`);
      return { requestCount: record.requestCount, sessionIds: new Set(record.sessionIds), initializeRequests: record.initializeRequests, oldestTokenSentMs: record.oldestTokenSentMs };
    },
    requestsServed: () => requestsServed,
    stop: () => void unsubscribe('http.server.request.start', onRequest),
  };
}

/** The authorization server fixture, served on its own listener on AUTHORIZATION_SERVER_HOST. */
/** A client registered for the client credentials grant, as an administrator would set one up for a CI job. */
export const MACHINE_CLIENT_ID = 'editor-ci';

async function startAuthorizationServerOffLocalhost(options: EditorFixtureOptions, machineClientSecret: string): Promise<AuthorizationServer> {
  let handle: RequestHandler = (_request, response) => void response.writeHead(503).end();
  /** Known once the server is mounted, before it gets any request. */
  const registration: { path?: string } = {};
  const server = createServer((request, response) => {
    const isRegistration = options.registrationIgnoresScope && request.method === 'POST' && new URL(request.url ?? '/', 'http://localhost').pathname === registration.path;
    Promise.resolve(isRegistration ? withoutScope(request).then(() => handle(request, response)) : handle(request, response)).catch((error: unknown) => {
      console.error('[editor fixtures] the authorization server failed:', error instanceof Error ? error.message : error);
      if (response.headersSent) response.destroy();
      else response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, AUTHORIZATION_SERVER_HOST, resolve);
  });
  const origin = `http://${AUTHORIZATION_SERVER_HOST}:${(server.address() as AddressInfo).port}`;
  const mounted = await mountAuthorizationServer(origin, {
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    accessTokenFormat: options.accessTokenFormat,
    // Advertised to every server; the strategy table puts the device code after the URI handler unless asked for.
    deviceFlow: { intervalSeconds: 1 },
    clients: [{ client_id: MACHINE_CLIENT_ID, client_secret: machineClientSecret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
  });
  handle = mounted.handle;
  registration.path = mounted.server.endpoints.registration && new URL(mounted.server.endpoints.registration).pathname;
  const close = (): Promise<void> => new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
  return { ...mounted.server, close };
}

/**
 * Reads a registration request and hands it on parsed, without `scope` (oidc-provider takes an already parsed body
 * from `req.body` when the stream has been read).
 */
async function withoutScope(request: IncomingMessage): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { scope: _scope, ...metadata } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  Object.assign(request, { body: metadata });
}

export async function startEditorFixtures(options: EditorFixtureOptions = {}): Promise<EditorFixtures> {
  const machineClientSecret = randomBytes(24).toString('base64url');
  const authorizationServer = await startAuthorizationServerOffLocalhost(options, machineClientSecret);
  const mcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer, sdk: 'v1' });
  const loopbackMcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer, sdk: 'v1' });
  const deviceMcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer, sdk: 'v1' });
  // Its own name, so that its tools are told apart from the other fixture servers' in vscode.lm.tools.
  const stepUpMcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer, sdk: 'v1', name: 'step-up' });
  const machineMcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer, sdk: 'v1', dpop: { nonces: true } });
  // Off localhost too: its pages are the authorization server's, which the editor must open as they are.
  const betterAuthServer = await startBetterAuthServer({ host: AUTHORIZATION_SERVER_HOST });
  const viewMcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer, sdk: 'v1' });
  const apiKeyHeader = 'x-api-key';
  const [bearerServer, apiKeyServer] = await Promise.all([startStaticCredentialServer('authorization'), startStaticCredentialServer(apiKeyHeader)]);
  const proxy = await startForwardProxy({ [ONLY_THROUGH_PROXY_HOST]: '127.0.0.1' });
  const observer = observeTraffic(authorizationServer, [mcpServer, loopbackMcpServer, machineMcpServer, stepUpMcpServer], [deviceMcpServer, viewMcpServer, bearerServer, apiKeyServer], [betterAuthServer.metadata.token_endpoint]);

  const config: EditorFixtureConfig = {
    serverUrl: mcpServer.url,
    loopbackServerUrl: loopbackMcpServer.url,
    deviceServerUrl: deviceMcpServer.url,
    stepUpServerUrl: stepUpMcpServer.url,
    betterAuthServerUrl: betterAuthServer.mcpUrl,
    viewServerUrl: viewMcpServer.url,
    machineServerUrl: machineMcpServer.url,
    machineClientId: MACHINE_CLIENT_ID,
    issuer: authorizationServer.issuer,
    login: LOGIN,
    bearerServerUrl: bearerServer.url,
    apiKeyServerUrl: apiKeyServer.url,
    apiKeyHeader,
    onlyThroughProxy: ONLY_THROUGH_PROXY_HOST,
  };
  // The person's proxy. A remote window reads machine-scoped settings from the Machine settings and application-scoped
  // ones from the user's: both name it, so that it applies whichever scope the editor gives `http.proxy`.
  const proxySettings = { 'http.proxy': proxy.url, 'http.noProxy': [AUTHORIZATION_SERVER_HOST] };
  const userSettings: Record<string, unknown> = {
    ...proxySettings,
    'mcpKeyring.servers': [
      { url: mcpServer.url, label: 'Fixture MCP server' },
      { url: loopbackMcpServer.url, label: 'Loopback MCP server', redirect: 'loopback' },
    ],
  };
  const machineSettings: Record<string, unknown> = {
    // The fixtures speak plain http on loopback addresses (127.0.0.1, 127.0.0.2).
    'mcpKeyring.allowInsecureLoopback': true,
    ...proxySettings,
  };

  let isClosed = false;
  const close = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    observer.stop();
    await Promise.allSettled([mcpServer.close(), loopbackMcpServer.close(), deviceMcpServer.close(), stepUpMcpServer.close(), viewMcpServer.close(), machineMcpServer.close(), bearerServer.close(), apiKeyServer.close(), proxy.close(), betterAuthServer.close()]);
    await authorizationServer.close();
  };
  return {
    authorizationServer,
    mcpServer,
    loopbackMcpServer,
    bearerServer,
    apiKeyServer,
    deviceMcpServer,
    stepUpMcpServer,
    viewMcpServer,
    machineMcpServer,
    betterAuthServer,
    machineClientSecret,
    config,
    userSettings,
    machineSettings,
    get registrations() { return observer.registrations; },
    get issuedTokens() { return observer.issuedTokens; },
    get betterAuthIssuedTokens() { return observer.otherIssuedTokens; },
    trafficTo: observer.trafficTo,
    requestsServed: observer.requestsServed,
    close,
    [Symbol.asyncDispose]: close,
  };
}
