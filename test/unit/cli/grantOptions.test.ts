import assert from 'node:assert/strict';
import { parseCommandLine, type CliOptions } from '../../../src/cli/options';
import { toMachineGrant } from '../../../src/cli/grantOptions';
import { throwsWithCode } from '../core/fakes';

const URL = 'https://mcp.example/mcp';

function parse(args: string[], env: NodeJS.ProcessEnv = {}): CliOptions {
  const parsed = parseCommandLine(['token', URL, ...args], env);
  assert.equal(parsed.kind, 'run');
  return (parsed as { options: CliOptions }).options;
}

describe('command-line grant options', () => {
  it('client credentials with a secret from the environment', () => {
    const options = parse(['--grant', 'client_credentials', '--client-id', 'bot'], { MCP_KEYRING_CLIENT_SECRET: 's3cret' });
    assert.deepEqual(options.grant, { kind: 'client_credentials' });
    assert.equal(options.client.clientSecret, 's3cret');
  });

  it('private_key_jwt from --private-key, with an optional algorithm', () => {
    const options = parse(['--grant', 'client_credentials', '--client-id', 'bot', '--private-key', 'bot.pem', '--signing-alg', 'PS256']);
    assert.equal(options.privateKeyFile, 'bot.pem');
    assert.equal(options.client.signingAlg, 'PS256');
  });

  it('a JWT bearer assertion from a file, the command line or the environment', () => {
    assert.deepEqual(parse(['--grant', 'jwt-bearer', '--client-id', 'w', '--assertion-file', '/run/token']).grant, { kind: 'jwt-bearer', assertion: { file: '/run/token' } });
    assert.deepEqual(parse(['--grant', 'jwt-bearer', '--client-id', 'w', '--assertion', 'a.b.c']).grant, { kind: 'jwt-bearer', assertion: { value: 'a.b.c' } });
    assert.deepEqual(parse(['--grant', 'jwt-bearer', '--client-id', 'w'], { MCP_KEYRING_ASSERTION: 'x.y.z' }).grant, { kind: 'jwt-bearer', assertion: { value: 'x.y.z' } });
  });

  it('token exchange with the identity provider options', () => {
    const options = parse(['--grant', 'token-exchange', '--client-id', 'app', '--idp-token-endpoint', 'https://idp.example/token', '--idp-client-id', 'kr', '--idp-id-token-file', 'id.jwt'], { MCP_KEYRING_IDP_CLIENT_SECRET: 'idp-s' });
    assert.deepEqual(options.grant, { kind: 'token-exchange', idpTokenEndpoint: 'https://idp.example/token', idpClientId: 'kr', idpClientSecret: 'idp-s', idToken: { file: 'id.jwt' } });
  });

  it('--dpop and --no-dpop', () => {
    assert.equal(parse([]).dpop, undefined);
    assert.equal(parse(['--dpop']).dpop, true);
    assert.equal(parse(['--no-dpop']).dpop, false);
  });

  const misuse: [string, string[], NodeJS.ProcessEnv?][] = [
    ['an unknown grant', ['--grant', 'password', '--client-id', 'c']],
    ['a grant without a client id', ['--grant', 'client_credentials']],
    ['client credentials without any client authentication', ['--grant', 'client_credentials', '--client-id', 'c']],
    ['jwt-bearer without an assertion', ['--grant', 'jwt-bearer', '--client-id', 'c']],
    ['both --assertion and --assertion-file', ['--grant', 'jwt-bearer', '--client-id', 'c', '--assertion', 'a', '--assertion-file', 'f']],
    ['an assertion without --grant', ['--assertion', 'a']],
    ['an assertion for another grant', ['--grant', 'client_credentials', '--client-id', 'c', '--client-secret', 's', '--assertion', 'a']],
    ['token-exchange without the identity provider', ['--grant', 'token-exchange', '--client-id', 'c', '--idp-id-token', 't']],
    ['token-exchange without an ID token', ['--grant', 'token-exchange', '--client-id', 'c', '--idp-token-endpoint', 'https://idp/t', '--idp-client-id', 'k']],
    ['--idp options for another grant', ['--grant', 'jwt-bearer', '--client-id', 'c', '--assertion', 'a', '--idp-client-id', 'k']],
    ['--client-auth private_key_jwt without a key', ['--client-id', 'c', '--client-auth', 'private_key_jwt']],
    ['--signing-alg without a key', ['--client-id', 'c', '--signing-alg', 'ES256']],
    ['an unknown --signing-alg', ['--client-id', 'c', '--private-key', 'k.pem', '--signing-alg', 'HS256']],
    ['--private-key without a client id', ['--private-key', 'k.pem']],
    ['--dpop with --no-dpop', ['--dpop', '--no-dpop']],
  ];
  for (const [name, args, env] of misuse) {
    it(`is a usage error: ${name}`, () => {
      const error = throwsWithCode(() => parse(args, env), 'usage');
      assert.ok(!/\ba\.b\.c\b/.test(error.message));
    });
  }

  it('reads a file-backed assertion each time the grant runs', async () => {
    let reads = 0;
    const grant = toMachineGrant({ kind: 'jwt-bearer', assertion: { file: '/run/token' } }, (path) => Promise.resolve(`${path}#${++reads}`));
    assert.equal(grant.kind, 'jwt-bearer');
    if (grant.kind !== 'jwt-bearer') return;
    assert.equal(await grant.assertion(), '/run/token#1');
    assert.equal(await grant.assertion(), '/run/token#2');
  });
});
