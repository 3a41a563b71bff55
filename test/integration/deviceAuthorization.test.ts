// Device authorization (RFC 8628) against oidc-provider's device flow: the engine and the command line show the user
// code, a scripted person approves it on the authorization server's own pages (user code entry or confirmation, login,
// consent), and the engine polls the token endpoint at the pace the server sets. Failed attempts store nothing.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DEVICE_CODE_GRANT } from '../../src/core/clientIdentity';
import { isKeyringError, type ErrorCode } from '../../src/core/errors';
import { Keyring } from '../../src/core/keyring';
import { createGuardedNetwork } from '../../src/node/guardedNetwork';
import type { DeviceCodePrompt, FetchFn, Logger } from '../../src/core/ports';
import { FileStore } from '../../src/node/fileStore';
import { LoopbackReceiver } from '../../src/node/loopbackReceiver';
import { startAuthorizationServer, type AuthorizationServer, type DeviceFlowOptions } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createTestBrowser, type TestBrowserOptions } from '../fixtures/testBrowser';
import { createCliHarness, type CliHarness } from './cliHarness';

const INTERVAL_SECONDS = 1;
/** Timers may fire a little early relative to another process's clock. */
const CLOCK_SLACK_MS = 50;

/** What the person does once the code is shown: approve after a while, typing the code or following the full link. */
interface Person extends TestBrowserOptions {
  readonly afterMs?: number;
  readonly via?: 'typed code' | 'complete link';
  /** Never looks at the code (for expiry and cancellation). */
  readonly away?: boolean;
}

interface DeviceHarness {
  readonly keyring: Keyring;
  readonly prompts: DeviceCodePrompt[];
  /** Every device code the authorization server issued, read off the wire, to look for it where it must not be. */
  readonly deviceCodes: string[];
  readonly logLines: string[];
  /** Resolves when the scripted person has finished with the browser. */
  approved(): Promise<void>;
  storedFiles(): Promise<string[]>;
  storeContents(): Promise<string>;
  dispose(): Promise<void>;
}

async function createDeviceHarness(person: Person = {}): Promise<DeviceHarness> {
  const storeDirectory = await mkdtemp(join(tmpdir(), 'mcp-keyring-device-'));
  const prompts: DeviceCodePrompt[] = [];
  const deviceCodes: string[] = [];
  const logLines: string[] = [];
  const browsing: Promise<void>[] = [];
  const write = (line: string) => void logLines.push(line);
  const logger: Logger = { debug: write, info: write, warn: write, error: write };
  const observingFetch: FetchFn = async (input, init) => {
    const response = await fetch(input, init);
    if (String(input).endsWith('/device/auth') && response.ok) deviceCodes.push(((await response.clone().json()) as { device_code: string }).device_code);
    return response;
  };
  const keyring = Keyring.create({
    store: await FileStore.open(storeDirectory),
    fetch: observingFetch,
    network: createGuardedNetwork({ fetch: (input, init) => observingFetch(input, init) }),
    openUrl: () => Promise.reject(new Error('the device flow opens no authorization URL')),
    createReceiver: () => LoopbackReceiver.start({ logger, timeoutMs: 20_000 }),
    logger,
    timeoutMs: 10_000,
    showDeviceCode: (prompt) => {
      prompts.push(prompt);
      if (!person.away) {
        const browser = createTestBrowser({ ...person, userCode: prompt.userCode });
        const page = person.via === 'complete link' ? prompt.verificationUriComplete! : prompt.verificationUri;
        browsing.push(delay(person.afterMs ?? 0).then(() => browser.open(page)));
      }
      return Promise.resolve();
    },
  });
  return {
    keyring,
    prompts,
    deviceCodes,
    logLines,
    approved: async () => void (await Promise.all(browsing)),
    storedFiles: () => readdir(storeDirectory),
    storeContents: async () => (await Promise.all((await readdir(storeDirectory)).map((file) => readFile(join(storeDirectory, file), 'utf8')))).join('\n'),
    dispose: () => rm(storeDirectory, { recursive: true, force: true }),
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isKeyringError(error), String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** The times of the token requests after `since` (an index into the request log). */
function tokenRequestTimes(as: AuthorizationServer, since: number): number[] {
  return as.requestLog.slice(since).filter((entry) => entry.endpoint === 'token').map((entry) => entry.at);
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((time, index) => time - times[index]!);
}

async function startServers(deviceFlow: DeviceFlowOptions): Promise<{ as: AuthorizationServer; mcp: McpServer }> {
  const as = await startAuthorizationServer({ deviceFlow });
  return { as, mcp: await startMcpServer({ shape: 'path-metadata', authorizationServer: as }) };
}

describe('signing in by device authorization (RFC 8628)', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let device: DeviceHarness | undefined;

  before(async function () {
    ({ as, mcp } = await startServers({ intervalSeconds: INTERVAL_SECONDS }));
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });
  afterEach(async function () {
    await device?.dispose();
    device = undefined;
  });

  it('signs in once the person types the code on the verification page, and stores a credential that refreshes', async function () {
    device = await createDeviceHarness({ via: 'typed code' });
    const credential = await device.keyring.signIn(mcp.url, { flow: 'device' });
    assert.equal(credential.account, 'alice');
    assert.ok(credential.scopes.includes('mcp:read'));
    const [prompt] = device.prompts;
    assert.match(prompt!.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(prompt!.verificationUri, `${as.issuer}/device`);
    const payload = JSON.parse(Buffer.from(credential.accessToken.split('.')[1]!, 'base64url').toString()) as { aud: string };
    assert.equal(payload.aud, mcp.url, 'the resource indicator reached the device authorization');
    const stored = await device.storeContents();
    assert.ok(stored.includes(DEVICE_CODE_GRANT), 'the registration asked for the device grant');
    const refreshed = await device.keyring.refresh(mcp.url);
    assert.notEqual(refreshed.accessToken, credential.accessToken);
    const session = await fetch(mcp.url, { method: 'POST', headers: { authorization: `Bearer ${refreshed.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } }) });
    assert.equal(session.status, 200);
    await session.body?.cancel();
  });

  it('polls no faster than the interval while approval is pending, and never logs or stores the device code', async function () {
    device = await createDeviceHarness({ via: 'complete link', afterMs: 2_500 });
    const since = as.requestLog.length;
    const started = Date.now();
    await device.keyring.signIn(mcp.url, { flow: 'device' });
    const elapsed = Date.now() - started;
    const times = tokenRequestTimes(as, since);
    assert.ok(times.length >= 3, `expected polls while pending, saw ${times.length}`);
    assert.ok(times.length <= Math.floor(elapsed / (INTERVAL_SECONDS * 1000)) + 1, `${times.length} token requests in ${elapsed} ms`);
    for (const gap of gaps(times)) assert.ok(gap >= INTERVAL_SECONDS * 1000 - CLOCK_SLACK_MS, `polled again after ${gap} ms`);
    assert.equal(device.deviceCodes.length, 1);
    const code = device.deviceCodes[0]!;
    assert.ok(!device.logLines.join('\n').includes(code), 'the device code is not logged');
    assert.ok(!(await device.storeContents()).includes(code), 'the device code is not stored');
  });

  it('waits five seconds longer after slow_down, for that and every later request', async function () {
    device = await createDeviceHarness({ via: 'complete link', afterMs: 5_000 });
    const since = as.requestLog.length;
    as.failNext('token', 1, 400, 'slow_down');
    await device.keyring.signIn(mcp.url, { flow: 'device' });
    const times = tokenRequestTimes(as, since);
    assert.ok(times.length >= 2);
    for (const gap of gaps(times)) assert.ok(gap >= (INTERVAL_SECONDS + 5) * 1000 - CLOCK_SLACK_MS, `polled again after ${gap} ms`);
  });

  it('ends with access_denied when the person denies consent, and stores nothing', async function () {
    device = await createDeviceHarness({ via: 'complete link', consent: 'deny' });
    await rejectsWith(device.keyring.signIn(mcp.url, { flow: 'device' }), 'access_denied');
    await device.approved();
    assert.deepEqual(await device.storedFiles(), []);
  });

  it('stops polling when cancelled, and stores nothing', async function () {
    device = await createDeviceHarness({ away: true });
    const abort = new AbortController();
    const since = as.requestLog.length;
    const signIn = device.keyring.signIn(mcp.url, { flow: 'device', signal: abort.signal });
    // Cancelled once polling is under way: after its first token request.
    for (const deadline = Date.now() + 10_000; tokenRequestTimes(as, since).length === 0; await delay(20)) {
      assert.ok(Date.now() < deadline, 'polling did not start');
    }
    abort.abort();
    await rejectsWith(signIn, 'cancelled');
    const polls = tokenRequestTimes(as, since).length;
    await delay(INTERVAL_SECONDS * 1000 + 200);
    assert.equal(tokenRequestTimes(as, since).length, polls, 'no request after cancellation');
    assert.deepEqual(await device.storedFiles(), []);
  });

  it('refuses the device flow for a server that does not offer it, before any device request', async function () {
    const plain = await startAuthorizationServer();
    const plainMcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: plain });
    try {
      device = await createDeviceHarness();
      assert.equal(await device.keyring.offersDeviceAuthorization(plainMcp.url), false);
      assert.equal(await device.keyring.offersDeviceAuthorization(mcp.url), true);
      await rejectsWith(device.keyring.signIn(plainMcp.url, { flow: 'device' }), 'device_flow_unavailable');
      assert.equal(plain.requestCount('registration'), 0);
      assert.deepEqual(await device.storedFiles(), []);
    } finally {
      await plainMcp.close();
      await plain.close();
    }
  });
});

describe('a device code that expires before anyone approves it', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;

  before(async function () {
    ({ as, mcp } = await startServers({ intervalSeconds: INTERVAL_SECONDS, codeTtlSeconds: 3 }));
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });

  it('ends with device_code_expired within the code\'s lifetime, and stores nothing', async function () {
    const device = await createDeviceHarness({ away: true });
    try {
      const started = Date.now();
      await rejectsWith(device.keyring.signIn(mcp.url, { flow: 'device' }), 'device_code_expired');
      assert.ok(Date.now() - started < 4_000);
      assert.deepEqual(await device.storedFiles(), []);
    } finally {
      await device.dispose();
    }
  });
});

describe('the command line with --device', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    ({ as, mcp } = await startServers({ intervalSeconds: INTERVAL_SECONDS }));
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness();
  });
  afterEach(async function () {
    await cli.dispose();
  });

  it('logs in by device code: prints the code and where to enter it, opens the verification page, stores the credential', async function () {
    const result = await cli.run('login', mcp.url, '--device');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`To sign in, open ${as.issuer}/device and enter the code [A-Z]{4}-[A-Z]{4}\\n`));
    assert.equal(cli.browserOpens, 1);
    assert.equal(as.requestCount('authorization'), 0, 'no browser redirect flow');
    const tools = await cli.run('tools', mcp.url, '--json');
    assert.equal(tools.code, 0, tools.stderr);
    assert.equal(cli.browserOpens, 1, 'the stored credential serves later commands');
    assert.ok(!cli.transcript.includes('device_code'), 'nothing about the device code is printed');
    for (const token of mcp.seenTokens) assert.ok(!cli.transcript.includes(token));
  });

  for (const command of [['tools'], ['call', 'echo', '--args', '{"text":"by device"}'], ['token']] as const) {
    it(`signs in by device code when ${command[0]} needs a sign-in`, async function () {
      const [name, ...rest] = command;
      const result = await cli.run(name, mcp.url, ...rest, '--device');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /enter the code/);
      assert.equal(as.requestCount('authorization'), 0);
    });
  }

  it('ends with exit 1 and stores nothing when the person denies', async function () {
    const denying = await createCliHarness({ consent: 'deny' });
    try {
      const result = await denying.run('login', mcp.url, '--device');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /access_denied/);
      assert.equal(await denying.storeContents(), '');
    } finally {
      await denying.dispose();
    }
  });

  it('refuses --device for commands that never sign in', async function () {
    const result = await cli.run('status', '--device');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--device is only for login, tools, call and token/);
    const withGrant = await cli.run('login', mcp.url, '--device', '--grant', 'client_credentials', '--client-id', 'ci-bot', '--client-secret', 'not-used');
    assert.equal(withGrant.code, 2);
    assert.match(withGrant.stderr, /give either --device or --grant/);
  });
});

describe('a device sign-in to a server that demands DPoP-bound tokens', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    as = await startAuthorizationServer({ deviceFlow: { intervalSeconds: INTERVAL_SECONDS }, dpopNonces: true });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as, dpop: { nonces: true } });
    cli = await createCliHarness();
  });
  after(async function () {
    await cli.dispose();
    await mcp.close();
    await as.close();
  });

  it('binds the polled tokens to a key, answering the token endpoint\'s nonce demand', async function () {
    const result = await cli.run('call', mcp.url, 'whoami', '--device');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(as.requestCount('authorization'), 0);
    const token = JSON.parse((await cli.run('token', mcp.url, '--json')).stdout) as { tokenType: string };
    assert.equal(token.tokenType, 'dpop');
  });
});
