import assert from 'node:assert/strict';
import { serverOfSession, sessionIdFor } from '../../../src/vscode/sessionIds';

describe('authentication session ids', function () {
  const withKey = 'https://mcp.example/mcp?api_key=planted-key-7c1d';
  const others = ['https://mcp.example/mcp', 'https://mcp.example/mcp?api_key=another'];

  it("carry nothing of the server URL's query, where keys travel", function () {
    const id = sessionIdFor(withKey);
    assert.ok(!id.includes('planted-key-7c1d') && !id.includes('?'), id);
  });

  it('lead back to their server, and to no other', function () {
    assert.equal(serverOfSession(sessionIdFor(withKey), [...others, withKey]), withKey);
    assert.equal(serverOfSession(sessionIdFor(withKey), others), undefined);
  });
});
