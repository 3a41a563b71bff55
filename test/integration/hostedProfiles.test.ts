// The command line against recreations of hosted identity providers (test/fixtures/hostedProfiles.ts): for each one,
// either it signs in untouched, or every refusal stops at once with one line naming the option to set, and with those
// options it signs in, calls a tool, and renews its token the way that provider allows.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startHostedProfile, type HostedProfile, type HostedProfileName } from '../fixtures/hostedProfiles';
import { createCliHarness, type CliHarness, type CliRun } from './cliHarness';

const TOKEN_LIFETIME_SECONDS = 2;

interface Status {
  issuer: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  hasRefreshToken: boolean;
}

/** One attempt with more options than the one before: a refusal that names the next option, or a sign-in. */
interface Step {
  readonly options: (profile: HostedProfile) => string[];
  /** The refusal: its code and the option its one line names. Absent: the sign-in succeeds. */
  readonly refusal?: { readonly code: string; readonly names: RegExp };
  /** Whether the refusal came after the person was sent to the browser (it could not be known before). */
  readonly afterBrowser?: boolean;
}

interface Case {
  readonly profile: HostedProfileName;
  readonly steps: readonly Step[];
  /** How the signed-in credential is renewed: by a refresh token, or not at all (a token that does not expire). */
  readonly renewal: 'refresh' | 'none';
}

const clientId = (profile: HostedProfile) => ['--client-id', profile.client.id];
const clientWithSecret = (profile: HostedProfile) => [...clientId(profile), '--client-secret', profile.client.secret!];
const NEEDS_CLIENT_ID = { code: 'registration_unavailable', names: /\(pass --client-id\)$/ };
const NEEDS_PKCE_ASSERTION = { code: 'pkce_unsupported', names: /\(pass --assume-pkce if you know the authorization server enforces PKCE\)$/ };

const CASES: readonly Case[] = [
  {
    profile: 'entra',
    steps: [
      { options: () => [], refusal: NEEDS_PKCE_ASSERTION },
      { options: () => ['--assume-pkce'], refusal: NEEDS_CLIENT_ID },
      { options: (p) => ['--assume-pkce', ...clientId(p)], refusal: { code: 'invalid_target', names: /\(pass --resource omit, or --resource <the URI the authorization server knows the server by>\)$/ }, afterBrowser: true },
      { options: (p) => ['--assume-pkce', ...clientId(p), '--resource', p.applicationIdUri!] },
    ],
    renewal: 'refresh',
  },
  {
    profile: 'auth0',
    steps: [
      { options: () => [], refusal: { code: 'unauthorized', names: /needs an audience parameter\) \(pass --auth-param audience=<the identifier of the server's API at the authorization server>\)$/ }, afterBrowser: true },
      { options: (p) => ['--auth-param', `audience=${p.mcp.url}`] },
    ],
    renewal: 'refresh',
  },
  {
    profile: 'github',
    steps: [
      { options: () => [], refusal: NEEDS_CLIENT_ID },
      { options: (p) => [...clientId(p), '--client-secret', 'not-the-secret'], refusal: { code: 'invalid_client', names: /\(incorrect_client_credentials\) \(check --client-id and --client-secret\)$/ }, afterBrowser: true },
      { options: clientWithSecret },
    ],
    renewal: 'none',
  },
  {
    profile: 'google',
    steps: [
      { options: () => [], refusal: NEEDS_CLIENT_ID },
      { options: (p) => [...clientWithSecret(p), '--auth-param', 'access_type=offline'] },
    ],
    renewal: 'refresh',
  },
  {
    profile: 'keycloak',
    steps: [
      { options: () => [], refusal: NEEDS_CLIENT_ID },
      { options: clientId },
    ],
    renewal: 'refresh',
  },
  {
    profile: 'okta',
    steps: [
      { options: () => [], refusal: NEEDS_CLIENT_ID },
      { options: clientId },
    ],
    renewal: 'refresh',
  },
  {
    profile: 'cognito',
    steps: [
      { options: () => [], refusal: NEEDS_PKCE_ASSERTION },
      { options: () => ['--assume-pkce'], refusal: NEEDS_CLIENT_ID },
      { options: (p) => ['--assume-pkce', ...clientId(p)] },
    ],
    renewal: 'refresh',
  },
];

describe('signing in to recreations of hosted identity providers', function () {
  for (const { profile: name, steps, renewal } of CASES) {
    describe(name, function () {
      let profile: HostedProfile;
      let cli: CliHarness;
      const status = async () => JSON.parse((await cli.run('status', profile.mcp.url, '--json')).stdout) as Status[];
      const tokenRequests = (grantType: string) => profile.frontLog.filter((entry) => entry.parameters.grant_type === grantType).length;

      before(async function () {
        profile = await startHostedProfile(name, { accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS });
        cli = await createCliHarness();
      });
      after(async function () {
        await cli?.dispose();
        await profile?.close();
      });

      steps.forEach((step, index) => {
        const given = (p: HostedProfile) => step.options(p).join(' ') || 'nothing';
        if (step.refusal) {
          const { code, names } = step.refusal;
          it(`${index + 1}. given ${index === 0 ? 'nothing' : 'the options named so far'}, stops with ${code} in one line naming the option to set`, async function () {
            const opensBefore = cli.browserOpens;
            const tokensBefore = tokenRequests('authorization_code');
            const result = await cli.run('tools', profile.mcp.url, ...step.options(profile));
            assert.equal(result.code, 1, `given ${given(profile)}: ${result.stdout}`);
            assertOneLine(result, code, names);
            // Once at most: a refusal learnt in the browser (Auth0's token refused for want of `audience`) ends the
            // command rather than sending the person back for another token that would be refused alike.
            assert.equal(cli.browserOpens - opensBefore, step.afterBrowser === true ? 1 : 0, 'how often the browser was opened');
            if (code === 'unauthorized') {
              // The sign-in itself succeeded and was stored; the server refused what it got. Start the next step cold.
              assert.equal((await cli.run('logout', profile.mcp.url)).code, 0);
            } else if (code !== 'invalid_client') {
              assert.equal(tokenRequests('authorization_code'), tokensBefore, 'no token was requested');
            }
            assert.deepEqual(await status(), [], 'nothing was stored');
          });
        } else {
          it(`${index + 1}. with those options, signs in from a cold store and lists the tools`, async function () {
            const result = await cli.run('tools', profile.mcp.url, ...step.options(profile), '--json');
            assert.equal(result.code, 0, result.stderr);
            const listed = JSON.parse(result.stdout) as { tools: { name: string }[] };
            assert.deepEqual(listed.tools.map((tool) => tool.name).sort(), ['admin_action', 'echo', 'whoami']);
            const [signedIn] = await status();
            assert.equal(signedIn?.issuer, profile.issuer);
            assert.equal(signedIn?.hasRefreshToken, renewal === 'refresh');
            assert.ok(profile.mcp.seenTokens.every((token) => !cli.transcript.includes(token)), 'a token appeared in the output');
          });
        }
      });

      if (renewal === 'refresh') {
        // No options now: what the sign-in was given (the resource indicator Entra ID needs) is remembered with it.
        it('calls a tool after the access token expired, refreshing with no browser and no options', async function () {
          const opens = cli.browserOpens;
          const refreshes = tokenRequests('refresh_token');
          await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
          const result = await cli.run('call', profile.mcp.url, 'echo', '--args', '{"text":"after expiry"}');
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stdout.trim(), 'after expiry');
          assert.equal(cli.browserOpens, opens);
          assert.ok(tokenRequests('refresh_token') > refreshes, 'no refresh reached the token endpoint');
        });
      } else {
        it('keeps a token that does not expire and was issued without a refresh token, and calls with it', async function () {
          const [signedIn] = await status();
          assert.equal(signedIn?.expiresAt, undefined);
          const result = await cli.run('call', profile.mcp.url, 'echo', '--args', '{"text":"no expiry"}');
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stdout.trim(), 'no expiry');
        });
      }
    });
  }

  describe('what each recreation checks of the client', function () {
    const signedIn = async (name: HostedProfileName, options: (p: HostedProfile) => string[]) => {
      const profile = await startHostedProfile(name, { accessTokenTtlSeconds: 60 });
      const cli = await createCliHarness();
      const result = await cli.run('tools', profile.mcp.url, ...options(profile));
      return { profile, cli, result, dispose: async () => { await cli.dispose(); await profile.close(); } };
    };

    it('Entra ID: sends no resource with --resource omit, and the API still gets a token for its application ID URI', async function () {
      const run = await signedIn('entra', (p) => ['--assume-pkce', ...clientId(p), '--resource', 'omit']);
      try {
        assert.equal(run.result.code, 0, run.result.stderr);
        const sent = run.profile.frontLog.filter((entry) => entry.parameters.resource !== undefined);
        assert.deepEqual(sent, [], 'a resource was sent');
      } finally {
        await run.dispose();
      }
    });

    it('Entra ID: refuses the MCP server\'s URL as resource with invalid_target and AADSTS9010010, which the command line reads by its code', async function () {
      const run = await signedIn('entra', (p) => ['--assume-pkce', ...clientId(p)]);
      try {
        assert.equal(run.result.code, 1);
        const answer = new URL(run.cli.browser.lastFinalUrl ?? 'about:blank').searchParams;
        assert.equal(answer.get('error'), 'invalid_target');
        assert.match(answer.get('error_description') ?? '', /^AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes\.$/);
        assert.match(run.result.stderr, /^mcp-keyring: invalid_target: /);
      } finally {
        await run.dispose();
      }
    });

    it('GitHub: asks for JSON at the token endpoint, whose answer would otherwise be form-encoded', async function () {
      const run = await signedIn('github', clientWithSecret);
      try {
        assert.equal(run.result.code, 0, run.result.stderr);
        const accepts = run.profile.frontLog.filter((entry) => entry.path.endsWith('/access_token')).map((entry) => entry.accept);
        assert.ok(accepts.length > 0 && accepts.every((accept) => accept?.includes('application/json')), `token requests accepted ${accepts.join(', ')}`);
      } finally {
        await run.dispose();
      }
    });

    it('Google: signs in without access_type=offline too, with no refresh token; the token endpoint is on its own origin', async function () {
      const run = await signedIn('google', clientWithSecret);
      try {
        assert.equal(run.result.code, 0, run.result.stderr);
        const [status] = JSON.parse((await run.cli.run('status', run.profile.mcp.url, '--json')).stdout) as Status[];
        assert.equal(status?.hasRefreshToken, false);
        const tokenHosts = run.profile.frontLog.filter((entry) => entry.parameters.grant_type !== undefined).map((entry) => entry.host);
        assert.deepEqual(tokenHosts, ['endpoints']);
      } finally {
        await run.dispose();
      }
    });

    it('Cognito: never asks for offline_access, which it refuses, and reads past its 400s at other well-known URLs', async function () {
      const run = await signedIn('cognito', (p) => ['--assume-pkce', ...clientId(p)]);
      try {
        assert.equal(run.result.code, 0, run.result.stderr);
        const scopes = run.profile.frontLog.filter((entry) => entry.path.endsWith('/oauth2/authorize')).map((entry) => entry.parameters.scope ?? '');
        assert.ok(scopes.length > 0 && scopes.every((scope) => !scope.split(' ').includes('offline_access')), `asked for ${scopes.join(' | ')}`);
        assert.ok(run.profile.frontLog.some((entry) => entry.host === 'issuer' && entry.path.startsWith('/.well-known/')), 'no other well-known URL was tried first');
      } finally {
        await run.dispose();
      }
    });
  });
});

describe('what the command line remembers of the options a sign-in needed', function () {
  let profile: HostedProfile;
  let cli: CliHarness;
  const authorizationRequests = () => profile.frontLog.filter((entry) => entry.method === 'GET' && /\/(auth|authorize)$/.test(entry.path));
  afterEach(async function () {
    await cli?.dispose();
    await profile?.close();
  });

  it('Entra ID: --assume-pkce and --resource are given once; a sign-in again needs neither, and logout forgets them', async function () {
    profile = await startHostedProfile('entra', { accessTokenTtlSeconds: 60 });
    cli = await createCliHarness();
    const first = await cli.run('login', profile.mcp.url, '--assume-pkce', ...clientId(profile), '--resource', profile.applicationIdUri!);
    assert.equal(first.code, 0, first.stderr);
    const again = await cli.run('login', profile.mcp.url);
    assert.equal(again.code, 0, again.stderr);
    const call = await cli.run('call', profile.mcp.url, 'echo', '--args', '{"text":"remembered"}');
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(authorizationRequests().map((entry) => entry.parameters.resource), [profile.applicationIdUri, profile.applicationIdUri]);
    assert.equal(cli.browserOpens, 2);
    assert.equal((await cli.run('logout', profile.mcp.url)).code, 0);
    const afterLogout = await cli.run('login', profile.mcp.url, ...clientId(profile));
    assert.equal(afterLogout.code, 1);
    assertOneLine(afterLogout, 'pkce_unsupported', /--assume-pkce/);
  });

  it('Auth0: --auth-param audience is kept for the next sign-in, and a later --auth-param replaces it', async function () {
    profile = await startHostedProfile('auth0', { accessTokenTtlSeconds: 60 });
    cli = await createCliHarness();
    assert.equal((await cli.run('login', profile.mcp.url, '--auth-param', `audience=${profile.mcp.url}`)).code, 0);
    const again = await cli.run('tools', profile.mcp.url);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await cli.run('login', profile.mcp.url)).code, 0);
    const other = await cli.run('login', profile.mcp.url, '--auth-param', 'audience=https://other.example/api');
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual(authorizationRequests().map((entry) => entry.parameters.audience), [profile.mcp.url, profile.mcp.url, 'https://other.example/api']);
    assert.equal((await cli.run('login', profile.mcp.url)).code, 0);
    assert.equal(authorizationRequests().at(-1)?.parameters.audience, 'https://other.example/api');
  });
});

/** The refusal is one line, `mcp-keyring: <code>: …`, ending with the option to set, and names no JSON parse failure. */
function assertOneLine(result: CliRun, code: string, names: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `more than one line: ${result.stderr}`);
  assert.ok(lines[0]!.startsWith(`mcp-keyring: ${code}: `), lines[0]);
  assert.match(lines[0]!, names);
  assert.doesNotMatch(lines[0]!, /property must be|issuer .* instead of the same/);
}
