// Speaks MCP to a server through the keyring's authorized fetch, with the official 2.x client negotiating the
// protocol revision (stateful 2025-11-25 or stateless 2026-07-28) on its own.
import { Client, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { KeyringError, isKeyringError } from '../core/errors';
import type { FetchFn } from '../core/ports';

/** A server that keeps handing out cursors must not keep the command running forever. */
const MAX_TOOL_PAGES = 100;

export interface McpSession {
  readonly protocolVersion: string | undefined;
  listTools(): Promise<{ name: string; description?: string }[]>;
  callTool(name: string, args: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/** `signal` cancels whatever request is under way (the person interrupted the command). */
export async function openMcpSession(serverUrl: string, fetch: FetchFn, requestTimeoutMs: number, signal?: AbortSignal): Promise<McpSession> {
  const client = new Client({ name: 'mcp-keyring', version: '0.1.0' }, { versionNegotiation: { mode: 'auto' } });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch });
  const requestOptions = { timeout: requestTimeoutMs, signal };
  await mcpCall(() => client.connect(transport, requestOptions));
  return {
    protocolVersion: client.getNegotiatedProtocolVersion(),
    listTools: async () => {
      const tools: { name: string; description?: string }[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        if (++pages > MAX_TOOL_PAGES) throw new KeyringError('mcp_failed', `the server listed more than ${MAX_TOOL_PAGES} pages of tools`);
        const page = await mcpCall(() => client.listTools(cursor ? { cursor } : undefined, requestOptions));
        tools.push(...page.tools.map((tool) => ({ name: tool.name, description: tool.description })));
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    },
    callTool: (name, args) => mcpCall(() => client.callTool({ name, arguments: args }, requestOptions)),
    close: () => client.close(),
  };
}

/** Keyring errors raised inside the transport come back wrapped by the SDK; unwrap them so their codes survive. */
async function mcpCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const keyringError = findKeyringError(error);
    if (keyringError) throw keyringError;
    // The SDK's message may quote the server's response body: untrusted text, so only its status or kind is shown.
    const what = error instanceof SdkHttpError ? `the MCP server answered HTTP ${error.status}` : `the MCP request failed (${error instanceof Error ? error.name : 'unknown error'})`;
    throw new KeyringError('mcp_failed', what, { cause: error });
  }
}

function findKeyringError(error: unknown): KeyringError | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (isKeyringError(current)) return current;
  }
  return undefined;
}
