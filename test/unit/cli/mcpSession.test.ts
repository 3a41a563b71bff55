import assert from 'node:assert/strict';
import { isKeyringError } from '../../../src/core/errors';
import { openMcpSession } from '../../../src/cli/mcpSession';

describe('MCP session failures', () => {
  it('names the HTTP status a server answered with, never the body it sent', async () => {
    // A server built from the MCP SDK's example verifier answers a dead token with a bare 500.
    const answer500 = () => Promise.resolve(new Response('{"error":"server_error","error_description":"Invalid token abc.def"}', { status: 500, headers: { 'content-type': 'application/json' } }));
    await assert.rejects(openMcpSession('https://mcp.example/mcp', answer500, 5_000), (error) => {
      assert.ok(isKeyringError(error, 'mcp_failed'));
      assert.match(error.message, /answered HTTP 500/);
      assert.doesNotMatch(error.message, /Invalid token/);
      return true;
    });
  });
});
