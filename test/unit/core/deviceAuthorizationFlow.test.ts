import assert from 'node:assert/strict';
import type * as oauth from 'oauth4webapi';
import { ClientIdentities, DEVICE_CODE_GRANT } from '../../../src/core/clientIdentity';
import { DeviceAuthorizationFlow, supportsDeviceAuthorization } from '../../../src/core/deviceAuthorizationFlow';
import { MAX_DEVICE_WAIT_SECONDS } from '../../../src/core/deviceExchanges';
import { KeyringError } from '../../../src/core/errors';
import type { DeviceCodePrompt, ShowDeviceCode } from '../../../src/core/ports';
import { KeyringRepository, type ClientRecord } from '../../../src/core/records';
import { fakeClock, httpClientOver, json, MemoryStore, recordingLogger, rejectsWithCode, routerFetch, type Route } from './fakes';

const ISSUER = 'https://as.example';
const DEVICE_ENDPOINT = `${ISSUER}/device/auth`;
const TOKEN_ENDPOINT = `${ISSUER}/token`;
const REGISTER = `${ISSUER}/register`;
const DEVICE_CODE = 'the-device-code-secret-0123456789';
const POLICY = { serverAddressClass: 'loopback' as const };
const RESOURCE = 'https://mcp.example/mcp';

function authorizationServer(overrides: Partial<oauth.AuthorizationServer> = {}): oauth.AuthorizationServer {
  return {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: TOKEN_ENDPOINT,
    registration_endpoint: REGISTER,
    device_authorization_endpoint: DEVICE_ENDPOINT,
    grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
    ...overrides,
  };
}

const deviceAnswer = (extra: Record<string, unknown> = {}): Route => () => json({
  device_code: DEVICE_CODE, user_code: 'WDJB-MJHT', verification_uri: `${ISSUER}/device`, verification_uri_complete: `${ISSUER}/device?user_code=WDJB-MJHT`, expires_in: 600, interval: 2, ...extra,
});

/** A device flow against a fake server whose token endpoint answers `tokenAnswers` in turn (the last repeats). */
function harness(options: { device?: Route; tokenAnswers?: Route[] } = {}) {
  const clock = fakeClock();
  const started = clock.now();
  const registrations: Record<string, unknown>[] = [];
  const tokenBodies: URLSearchParams[] = [];
  const deviceBodies: URLSearchParams[] = [];
  const answers = options.tokenAnswers ?? [() => json({ error: 'authorization_pending' }, 400), () => json({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt' })];
  const server = routerFetch({
    [REGISTER]: (_url, init) => {
      const metadata = JSON.parse(init?.body as string) as Record<string, unknown>;
      registrations.push(metadata);
      return json({ ...metadata, client_id: `registered-${registrations.length}` }, 201);
    },
    [DEVICE_ENDPOINT]: (url, init) => {
      deviceBodies.push(new URLSearchParams(init?.body as string));
      return (options.device ?? deviceAnswer())(url, init);
    },
    [TOKEN_ENDPOINT]: (url, init) => {
      tokenBodies.push(new URLSearchParams(init?.body as string));
      return answers[Math.min(tokenBodies.length - 1, answers.length - 1)]!(url, init);
    },
  });
  const logger = recordingLogger();
  const http = httpClientOver(server.fetch, { logger });
  const repository = new KeyringRepository(new MemoryStore());
  const identities = new ClientIdentities(http, repository, () => clock.now());
  const prompts: DeviceCodePrompt[] = [];
  const flow = new DeviceAuthorizationFlow({
    http,
    identities,
    clock,
    logger,
    showDeviceCode: (prompt) => {
      prompts.push(prompt);
      return Promise.resolve();
    },
    sleep: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  });
  const run = (as = authorizationServer(), client: { clientId?: string } = {}, showDeviceCode?: ShowDeviceCode) => flow.run({ serverUrl: RESOURCE, as, client: { clientName: 'MCP Keyring', ...client }, scopes: ['mcp:read'], resource: RESOURCE, policy: POLICY, showDeviceCode });
  return { run, registrations, tokenBodies, deviceBodies, prompts, logger, repository, identities, started };
}

describe('the device authorization flow', () => {
  it('registers a client for the device grant, shows the user code and polls until approved', async () => {
    const h = harness();
    const result = await h.run();
    assert.equal(result.tokens.accessToken, 'at');
    assert.deepEqual(h.registrations.map((metadata) => [metadata.grant_types, metadata.response_types, metadata.redirect_uris]), [[[DEVICE_CODE_GRANT, 'refresh_token'], [], []]]);
    assert.deepEqual(result.client.grantTypes, [DEVICE_CODE_GRANT, 'refresh_token']);
    assert.deepEqual([h.deviceBodies[0]!.get('client_id'), h.deviceBodies[0]!.get('scope'), h.deviceBodies[0]!.get('resource')], ['registered-1', 'mcp:read', RESOURCE]);
    assert.deepEqual(h.tokenBodies.map((body) => [body.get('grant_type'), body.get('device_code'), body.get('resource')]), [
      [DEVICE_CODE_GRANT, DEVICE_CODE, RESOURCE],
      [DEVICE_CODE_GRANT, DEVICE_CODE, RESOURCE],
    ]);
    assert.deepEqual(h.prompts.map((prompt) => [prompt.userCode, prompt.verificationUri, prompt.verificationUriComplete]), [['WDJB-MJHT', `${ISSUER}/device`, `${ISSUER}/device?user_code=WDJB-MJHT`]]);
    assert.ok(!JSON.stringify(h.prompts).includes(DEVICE_CODE), 'the device code is shown to no one');
    assert.ok(!h.logger.lines.join('\n').includes(DEVICE_CODE), 'the device code is never logged');
  });

  it('shows the code through the sign-in\'s own prompt when it brings one, and tells it when the attempt ended', async () => {
    const h = harness();
    const signals: AbortSignal[] = [];
    await h.run(authorizationServer(), {}, (_prompt, signal) => {
      signals.push(signal);
      return Promise.resolve();
    });
    assert.deepEqual([h.prompts.length, signals.length, signals[0]?.aborted], [0, 1, true]);
  });

  it('does not assume that a registration made for the code flow allows the device grant', async () => {
    const h = harness();
    const codeFlowClient: ClientRecord = { issuer: ISSUER, clientId: 'code-flow-client', authMethod: 'none', redirectUris: ['http://127.0.0.1/callback'], grantTypes: ['authorization_code', 'refresh_token'], origin: 'dynamic-registration', registeredAt: 0 };
    await h.identities.remember(codeFlowClient);
    await h.identities.remember({ ...codeFlowClient, clientId: 'older-record', grantTypes: undefined });
    const result = await h.run();
    assert.equal(result.client.clientId, 'registered-1');
    assert.equal(h.registrations.length, 1);
  });

  it('reuses a registration made for the device grant', async () => {
    const h = harness();
    await h.identities.remember((await h.run()).client);
    await h.run();
    assert.equal(h.registrations.length, 1);
  });

  it('presents a configured client without registering', async () => {
    const h = harness();
    const result = await h.run(authorizationServer(), { clientId: 'configured' });
    assert.deepEqual([result.client.clientId, result.client.origin, result.client.redirectUris], ['configured', 'pre-registered', []]);
    assert.equal(h.registrations.length, 0);
  });

  it('registers again, once, when the server has forgotten the registration', async () => {
    const h = harness({ device: (url, init) => (new URLSearchParams(init?.body as string).get('client_id') === 'registered-1' ? json({ error: 'invalid_client' }, 401) : deviceAnswer()(url, init)) });
    const result = await h.run();
    assert.equal(result.client.clientId, 'registered-2');
  });

  for (const [error, code] of [['access_denied', 'access_denied'], ['expired_token', 'device_code_expired'], ['invalid_grant', 'invalid_grant']] as const) {
    it(`ends with ${code} when the token endpoint answers ${error}`, async () => {
      const h = harness({ tokenAnswers: [() => json({ error: 'authorization_pending' }, 400), () => json({ error }, 400)] });
      const failure = await rejectsWithCode(h.run(), code);
      assert.ok(!failure.message.includes(DEVICE_CODE));
      assert.equal(h.tokenBodies.length, 2);
    });
  }

  it('waits at most half an hour for approval, however long the server lets the code live', async () => {
    const h = harness({ device: deviceAnswer({ expires_in: 7 * 24 * 3600 }), tokenAnswers: [() => json({ error: 'authorization_pending' }, 400)] });
    await rejectsWithCode(h.run(), 'device_code_expired');
    assert.equal(h.prompts[0]!.expiresAt - h.started, MAX_DEVICE_WAIT_SECONDS * 1000);
    assert.ok(h.tokenBodies.length <= MAX_DEVICE_WAIT_SECONDS / 2);
  });

  it('treats slow_down as a reason to wait longer, not as a failure', async () => {
    const h = harness({ tokenAnswers: [() => json({ error: 'slow_down' }, 400), () => json({ access_token: 'at', token_type: 'Bearer' })] });
    assert.equal((await h.run()).tokens.accessToken, 'at');
  });

  it('refuses a server that does not advertise device authorization, before any request', async () => {
    const h = harness();
    await rejectsWithCode(h.run(authorizationServer({ device_authorization_endpoint: undefined })), 'device_flow_unavailable');
    await rejectsWithCode(h.run(authorizationServer({ grant_types_supported: ['authorization_code'] })), 'device_flow_unavailable');
    assert.equal(h.registrations.length + h.deviceBodies.length, 0);
  });

  const hostileAnswers: [string, Record<string, unknown>, string][] = [
    ['a user code that could be read as a link or markup', { user_code: '[open](https://evil.example)' }, 'invalid_response'],
    ['an http verification URI off loopback', { verification_uri: 'http://as.example/device' }, 'insecure_url'],
    ['a verification URI that is no URL', { verification_uri: 'go to the device page' }, 'invalid_response'],
    ['an http verification_uri_complete off loopback', { verification_uri_complete: 'http://evil.example/device?user_code=WDJB-MJHT' }, 'insecure_url'],
    ['no device code', { device_code: undefined }, 'invalid_response'],
  ];
  for (const [what, extra, code] of hostileAnswers) {
    it(`shows nothing and polls nothing for ${what}`, async () => {
      const h = harness({ device: deviceAnswer(extra) });
      await rejectsWithCode(h.run(), code as KeyringError['code']);
      assert.deepEqual([h.prompts.length, h.tokenBodies.length], [0, 0]);
    });
  }
});

describe('supportsDeviceAuthorization', () => {
  it('needs the endpoint, and the grant when the server lists its grants', () => {
    assert.equal(supportsDeviceAuthorization(authorizationServer()), true);
    assert.equal(supportsDeviceAuthorization(authorizationServer({ grant_types_supported: undefined })), true);
    assert.equal(supportsDeviceAuthorization(authorizationServer({ grant_types_supported: ['authorization_code'] })), false);
    assert.equal(supportsDeviceAuthorization(authorizationServer({ device_authorization_endpoint: undefined })), false);
  });
});
