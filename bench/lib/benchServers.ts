// The servers every section runs against: the real authorization server (oidc-provider) and an OAuth-protected MCP
// server built with the official SDK, on loopback, started and stopped together.
import { startAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../../test/fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../../test/fixtures/mcpServer';

export interface BenchServers {
  readonly as: AuthorizationServer;
  readonly mcp: McpServer;
  close(): Promise<void>;
}

/** `dpop`: the MCP server accepts only DPoP-bound tokens with proofs carrying its nonce (the authorization server's too, given `dpopNonces`). */
export async function startBenchServers(options: AuthorizationServerOptions = {}, dpop?: { nonces: boolean }): Promise<BenchServers> {
  const as = await startAuthorizationServer(options);
  const mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as, dpop });
  return {
    as,
    mcp,
    close: async () => {
      await mcp.close();
      await as.close();
    },
  };
}

/** What a client asked of the servers, by kind; the browser's own page loads at the authorization server are left out. */
export interface RequestCounts {
  challenge: number;
  resourceMetadata: number;
  serverMetadata: number;
  registration: number;
  token: number;
  other: number;
}

export interface LogMarks {
  readonly as: number;
  readonly mcp: number;
}

export function markLogs(servers: BenchServers): LogMarks {
  return { as: servers.as.requestLog.length, mcp: servers.mcp.requestLog.length };
}

/** Counts the client's requests at both servers since `since`. */
export function clientRequestsSince(servers: BenchServers, since: LogMarks): RequestCounts {
  const counts: RequestCounts = { challenge: 0, resourceMetadata: 0, serverMetadata: 0, registration: 0, token: 0, other: 0 };
  for (const entry of servers.mcp.requestLog.slice(since.mcp)) {
    if (entry.path.startsWith('/.well-known/oauth-protected-resource')) counts.resourceMetadata++;
    else if (entry.path === new URL(servers.mcp.url).pathname) counts.challenge++;
    else counts.other++;
  }
  for (const entry of servers.as.requestLog.slice(since.as)) {
    if (entry.endpoint === 'discovery') counts.serverMetadata++;
    else if (entry.endpoint === 'registration') counts.registration++;
    else if (entry.endpoint === 'token') counts.token++;
    else if (entry.endpoint === 'revocation' || entry.endpoint === 'introspection' || entry.endpoint === 'jwks') counts.other++;
    // Everything else (authorization endpoint, login and consent pages) is the browser's doing.
  }
  return counts;
}

export function totalRequests(counts: RequestCounts): number {
  return (Object.values(counts) as number[]).reduce((sum, count) => sum + count, 0);
}
