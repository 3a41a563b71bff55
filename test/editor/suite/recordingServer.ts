// A recorder on loopback for suites whose servers must be hostile or unreachable but through a proxy. Its URLs follow
// the Host it is asked for, so it also answers under a host only a proxy routes to it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly path: string;
  readonly text: string;
}

/**
 * Answers as an MCP server and its authorization server, which offers no registration (so a sign-in without a client
 * stops before any browser opens) and refuses every token request; records every request.
 */
export async function startRecorder(received: Received[]): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const origin = `http://${request.headers.host}`;
      const requestPath = new URL(request.url ?? '/', origin).pathname;
      received.push({ path: requestPath, text: `${request.url} ${JSON.stringify(request.headers)} ${Buffer.concat(chunks).toString('utf8')}` });
      const json = (status: number, body: object, headers: Record<string, string> = {}) => response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      if (requestPath === '/mcp') return json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` });
      if (requestPath === '/.well-known/oauth-protected-resource/mcp') return json(200, { resource: `${origin}/mcp`, authorization_servers: [origin] });
      if (requestPath === '/.well-known/oauth-authorization-server') {
        return json(200, {
          issuer: origin,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:token-exchange'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
        });
      }
      json(400, { error: 'invalid_grant' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

