import assert from 'node:assert/strict';
import { httpServersOf, stripJsonComments } from '../../../src/vscode/mcpJsonServers';

describe('reading servers from mcp.json', function () {
  it('finds http and sse servers, skipping stdio servers and non-http urls', function () {
    const text = `{
      // user servers
      "servers": {
        "github": { "type": "http", "url": "https://api.example.com/mcp", "headers": { "X-Team": "blue", "n": 1 } },
        "legacy": { "type": "sse", "url": "https://legacy.example.com/sse" },
        "untyped": { "url": "http://127.0.0.1:3000/mcp" },
        "local": { "type": "stdio", "command": "node", "args": ["server.js"] },
        "odd": { "type": "http", "url": "file:///etc/passwd" },
      },
      /* inputs are irrelevant here */
      "inputs": [],
    }`;
    assert.deepEqual(httpServersOf(text, 'mcp.json'), [
      { name: 'github', url: 'https://api.example.com/mcp', source: 'mcp.json' },
      { name: 'legacy', url: 'https://legacy.example.com/sse', source: 'mcp.json' },
      { name: 'untyped', url: 'http://127.0.0.1:3000/mcp', source: 'mcp.json' },
    ]);
  });

  it('yields nothing for malformed files rather than failing', function () {
    for (const text of ['', '{', 'null', '[]', '{"servers": 3}', '{"servers": {"a": null}}']) assert.deepEqual(httpServersOf(text, 'x'), [], text);
  });

  it('leaves comment markers and trailing-comma look-alikes inside strings alone', function () {
    const text = '{"a": "http://x//y", "b": "/* not a comment */", "c": "a,}", "d": [1, 2,],}';
    assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: 'http://x//y', b: '/* not a comment */', c: 'a,}', d: [1, 2] });
  });

  it('handles escaped quotes inside strings', function () {
    assert.deepEqual(JSON.parse(stripJsonComments('{"a": "say \\"hi\\" // not a comment"} // comment')), { a: 'say "hi" // not a comment' });
  });
});
