import assert from 'node:assert/strict';
import { sessionIdFor, subjectOfSession } from '../../../src/vscode/sessionIds';

describe('authentication session ids', function () {
  const withKey = { serverUrl: 'https://mcp.example/mcp?api_key=planted-key-7c1d', accountId: '0123456789abcdef0123456789abcdef' };
  const others = [
    { ...withKey, serverUrl: 'https://mcp.example/mcp' },
    { ...withKey, serverUrl: 'https://mcp.example/mcp?api_key=another' },
    { ...withKey, accountId: 'fedcba9876543210fedcba9876543210' },
  ];

  it("carry nothing of the server URL's query, where keys travel", function () {
    const id = sessionIdFor(withKey);
    assert.ok(!id.includes('planted-key-7c1d') && !id.includes('?'), id);
  });

  it('lead back to their server and account, and to no other: not another account of the same server', function () {
    assert.deepEqual(subjectOfSession(sessionIdFor(withKey), [...others, withKey]), withKey);
    assert.equal(subjectOfSession(sessionIdFor(withKey), others), undefined);
    assert.equal(new Set([withKey, ...others].map(sessionIdFor)).size, 4);
  });
});
