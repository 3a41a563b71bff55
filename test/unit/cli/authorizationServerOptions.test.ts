import assert from 'node:assert/strict';
import { parseCommandLine, type CliOptions } from '../../../src/cli/options';
import { throwsWithCode } from '../core/fakes';

function parse(args: string[]): CliOptions {
  const parsed = parseCommandLine(['login', 'https://mcp.example/mcp', ...args], {});
  assert.equal(parsed.kind, 'run');
  return (parsed as { options: CliOptions }).options;
}

describe('command-line options for authorization servers that need telling', () => {
  it('takes --resource as auto, omit or an absolute URI, and refuses anything else', () => {
    assert.equal(parse(['--resource', 'omit']).resource, 'omit');
    assert.equal(parse(['--resource', 'api://5d1c4a3e']).resource, 'api://5d1c4a3e');
    assert.equal(parse([]).resource, undefined);
    for (const bad of ['mcp.example', 'https://mcp.example/#part', '']) throwsWithCode(() => parse(['--resource', bad]), 'usage');
  });

  it('collects repeated --auth-param name=value pairs, values kept as written', () => {
    assert.deepEqual(parse(['--auth-param', 'audience=https://api.example/', '--auth-param', 'access_type=offline', '--auth-param', 'x=a=b']).authorizationParameters, {
      audience: 'https://api.example/', access_type: 'offline', x: 'a=b',
    });
  });

  it('refuses --auth-param for the parameters MCP Keyring sets itself, and pairs without a name', () => {
    for (const pair of ['state=x', 'redirect_uri=http://evil.example', 'Code_Challenge=x', 'scope=all', 'resource=https://other.example', '=x', 'audience']) {
      throwsWithCode(() => parse(['--auth-param', pair]), 'usage');
    }
  });

  it('--assume-pkce is off unless given', () => {
    assert.equal(parse([]).assumePkce, false);
    assert.equal(parse(['--assume-pkce']).assumePkce, true);
  });
});
