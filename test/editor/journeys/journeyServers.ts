// The servers a journey signs in to: the engine tests' oidc-provider authorization server and an OAuth-protected MCP
// server. The authorization server answers on 127.0.0.2, not 127.0.0.1: code-server treats every URL on
// `127.0.0.1:<port>` or `localhost:<port>` that the editor opens as a port of its own machine to forward, and sends
// the browser to `/proxy/<port>/…` with the query re-encoded, which no OAuth authorization URL survives. A real
// authorization server lives on another host; 127.0.0.2 is just as loopback for the extension's http policy and
// is opened as it is, like that host.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientMetadata } from 'oidc-provider';
import { mountAuthorizationServer, type AuthorizationServer, type DeviceFlowOptions } from '../../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../../fixtures/mcpServer';

const AUTHORIZATION_HOST = '127.0.0.2';

export interface JourneyServerOptions {
  /** Dynamic client registration; default on. */
  readonly registration?: boolean;
  /** Pre-registered clients (RFC 7591 metadata). */
  readonly clients?: ClientMetadata[];
  readonly accessTokenTtlSeconds?: number;
  /** Device authorization (RFC 8628); default off. */
  readonly deviceFlow?: DeviceFlowOptions;
}

export interface JourneyServers extends AsyncDisposable {
  readonly authorizationServer: Omit<AuthorizationServer, 'close'>;
  readonly mcpServer: McpServer;
  /** The account the authorization pages sign in as. */
  readonly login: string;
  close(): Promise<void>;
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return (server.address() as AddressInfo).port;
}

export async function startJourneyServers(options: JourneyServerOptions = {}): Promise<JourneyServers> {
  let handle: Parameters<typeof createServer>[1] = (_request, response) => void response.writeHead(503).end();
  const httpServer = createServer((request, response) => handle!(request, response));
  const port = await listen(httpServer, AUTHORIZATION_HOST);
  const mounted = await mountAuthorizationServer(`http://${AUTHORIZATION_HOST}:${port}`, {
    registration: options.registration,
    clients: options.clients,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    deviceFlow: options.deviceFlow,
  });
  handle = (request, response) => {
    Promise.resolve(mounted.handle(request, response)).catch(() => response.headersSent ? response.destroy() : response.writeHead(500).end());
  };
  const mcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer: mounted.server });

  let isClosed = false;
  const close = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    await mcpServer.close();
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
  };
  return { authorizationServer: mounted.server, mcpServer, login: 'alice', close, [Symbol.asyncDispose]: close };
}
