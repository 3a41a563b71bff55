// An MCP server without OAuth, as many internal ones are: a fixed key in one header (`Authorization: Bearer <key>` or
// an API key header), and a bare 401 without it (no WWW-Authenticate: nothing to discover). Counts what it accepted.
import { randomBytes } from 'node:crypto';
import { createMcpEndpointV1 } from '../fixtures/mcpEndpointV1';
import { listenOnLoopback } from '../fixtures/listenOnLoopback';
import { readBody } from '../fixtures/readBody';

export interface StaticCredentialServer {
  readonly url: string;
  /** The key the server accepts; the runner types it where the editor asks for it. Never printed. */
  readonly secret: string;
  /** MCP requests that carried the key in the expected header. */
  readonly accepted: number;
  /** Requests without it (or with anything else). */
  readonly refused: number;
  close(): Promise<void>;
}

/** `header` is `authorization` for a bearer token, else the API key header's name. */
export async function startStaticCredentialServer(header: string): Promise<StaticCredentialServer> {
  const listener = await listenOnLoopback();
  const secret = randomBytes(24).toString('base64url');
  const expected = header === 'authorization' ? `Bearer ${secret}` : secret;
  const endpoint = createMcpEndpointV1(`static-${header}`);
  const counts = { accepted: 0, refused: 0 };
  listener.serve(async (request, response) => {
    if (new URL(request.url ?? '/', listener.origin).pathname !== '/mcp') {
      response.writeHead(404).end();
      return;
    }
    const text = request.method === 'POST' ? await readBody(request) : '';
    if (request.headers[header] !== expected) {
      counts.refused += 1;
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'a valid key is required' }));
      return;
    }
    counts.accepted += 1;
    await endpoint.handle(request, response, text ? JSON.parse(text) : undefined, { token: '', clientId: 'static', scopes: [] });
  });
  return {
    url: `${listener.origin}/mcp`,
    secret,
    get accepted() { return counts.accepted; },
    get refused() { return counts.refused; },
    close: async () => {
      await endpoint.close();
      await listener.close();
    },
  };
}
