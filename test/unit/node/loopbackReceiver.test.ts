import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { isKeyringError } from '../../../src/core/errors';
import type { Logger } from '../../../src/core/ports';
import { LoopbackReceiver } from '../../../src/node/loopbackReceiver';

/** Collects log lines so tests can check what was (not) written. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

/** Resolves true if something accepts a TCP connection on the port, false if it is refused. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The server closes after its last answer; poll briefly rather than sleeping a fixed time. */
async function waitUntilClosed(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (!(await isListening(port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

describe('LoopbackReceiver', () => {
  let receiver: LoopbackReceiver;
  let logger: ReturnType<typeof recordingLogger>;
  let port: number;

  beforeEach(async () => {
    logger = recordingLogger();
    receiver = await LoopbackReceiver.start({ logger, timeoutMs: 5_000 });
    port = Number(new URL(receiver.redirectUri).port);
  });

  afterEach(() => {
    receiver.dispose();
  });

  it('is listening on 127.0.0.1 with a /callback redirect URI as soon as start resolves', async () => {
    assert.match(receiver.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.ok(port > 0);
    assert.equal(await isListening(port), true);
  });

  it('resolves with the callback URL carrying the code, thanks the browser without echoing anything, then closes', async () => {
    const callback = receiver.waitForCallback('state-123', new AbortController().signal);
    const response = await fetch(`${receiver.redirectUri}?code=code-abc&state=state-123&iss=https%3A%2F%2Fas`);
    const page = await response.text();
    assert.equal(response.status, 200);
    assert.match(page, /Sign-in is complete/);
    assert.ok(!page.includes('code-abc') && !page.includes('state-123'));
    const url = await callback;
    assert.equal(url.searchParams.get('code'), 'code-abc');
    assert.equal(url.searchParams.get('iss'), 'https://as');
    assert.equal(url.origin + url.pathname, receiver.redirectUri);
    assert.ok(logger.lines.every((line) => !line.includes('code-abc') && !line.includes('state-123')));
    assert.equal(await waitUntilClosed(port), true);
  });

  it('tells the browser sign-in did not complete when the callback carries an error, without echoing it', async () => {
    const callback = receiver.waitForCallback('s', new AbortController().signal);
    const response = await fetch(`${receiver.redirectUri}?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=s`);
    const page = await response.text();
    assert.match(page, /did not complete/);
    assert.ok(!page.includes('access_denied') && !page.includes('<script>'));
    assert.equal((await callback).searchParams.get('error'), 'access_denied');
  });

  it('answers 400 to a callback with a wrong or missing state, logs it without the query, and keeps waiting', async () => {
    const callback = receiver.waitForCallback('right-state', new AbortController().signal);
    const wrong = await fetch(`${receiver.redirectUri}?code=stolen-code&state=wrong-state`);
    const missing = await fetch(`${receiver.redirectUri}?code=stolen-code`);
    assert.deepEqual([wrong.status, missing.status], [400, 400]);
    assert.ok(logger.lines.includes('[loopback] ignored a callback with an unexpected state'));
    assert.ok(logger.lines.every((line) => !line.includes('stolen-code') && !line.includes('wrong-state')));
    const right = await fetch(`${receiver.redirectUri}?code=good-code&state=right-state`);
    assert.equal(right.status, 200);
    assert.equal((await callback).searchParams.get('code'), 'good-code');
  });

  it('answers 404 to any other path and keeps waiting', async () => {
    const callback = receiver.waitForCallback('s', new AbortController().signal);
    const other = await fetch(new URL('/favicon.ico?state=s', receiver.redirectUri));
    assert.equal(other.status, 404);
    await fetch(`${receiver.redirectUri}?code=c&state=s`);
    assert.equal((await callback).searchParams.get('code'), 'c');
  });

  it('accepts a callback that arrived before waitForCallback was called', async () => {
    const early = fetch(`${receiver.redirectUri}?code=early&state=s`);
    while (!logger.lines.some((line) => line.includes('holding it'))) await new Promise((resolve) => setImmediate(resolve));
    const url = await receiver.waitForCallback('s', new AbortController().signal);
    assert.equal(url.searchParams.get('code'), 'early');
    assert.equal((await early).status, 200);
  });

  it('rejects with timeout when no callback arrives in time, and closes the port', async () => {
    const quick = await LoopbackReceiver.start({ logger, timeoutMs: 50 });
    const quickPort = Number(new URL(quick.redirectUri).port);
    await assert.rejects(quick.waitForCallback('s', new AbortController().signal), (error: unknown) => isKeyringError(error, 'timeout'));
    assert.equal(await waitUntilClosed(quickPort), true);
  });

  it('rejects with cancelled when the signal aborts, and closes the port', async () => {
    const controller = new AbortController();
    const callback = receiver.waitForCallback('s', controller.signal);
    controller.abort();
    await assert.rejects(callback, (error: unknown) => isKeyringError(error, 'cancelled'));
    assert.equal(await waitUntilClosed(port), true);
  });

  it('rejects with cancelled at once for a signal that is already aborted', async () => {
    await assert.rejects(receiver.waitForCallback('s', AbortSignal.abort()), (error: unknown) => isKeyringError(error, 'cancelled'));
  });

  it('rejects a pending wait with cancelled on dispose, and tolerates a second dispose', async () => {
    const callback = receiver.waitForCallback('s', new AbortController().signal);
    receiver.dispose();
    receiver.dispose();
    await assert.rejects(callback, (error: unknown) => isKeyringError(error, 'cancelled'));
    assert.equal(await waitUntilClosed(port), true);
  });

  it('closes even while a browser holds a keep-alive connection open', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    receiver.dispose();
    await closed;
    assert.equal(await waitUntilClosed(port), true);
  });

  it('fails with a KeyringError when the port is taken', async () => {
    await assert.rejects(LoopbackReceiver.start({ port, logger, timeoutMs: 1_000 }), (error: unknown) => isKeyringError(error, 'network'));
  });

  it('listens on the first preferred port that is free, skipping a taken one', async () => {
    const spare = await LoopbackReceiver.start({ logger, timeoutMs: 1_000 });
    const sparePort = Number(new URL(spare.redirectUri).port);
    spare.dispose();
    assert.equal(await waitUntilClosed(sparePort), true);
    const preferring = await LoopbackReceiver.start({ preferredPorts: [port, sparePort], logger, timeoutMs: 1_000 });
    try {
      assert.equal(preferring.redirectUri, `http://127.0.0.1:${sparePort}/callback`);
    } finally {
      preferring.dispose();
    }
  });

  it('listens on any free port when every preferred one is taken', async () => {
    const fallback = await LoopbackReceiver.start({ preferredPorts: [port], logger, timeoutMs: 1_000 });
    try {
      assert.notEqual(new URL(fallback.redirectUri).port, String(port));
    } finally {
      fallback.dispose();
    }
  });

  it('can only be waited on once', async () => {
    const controller = new AbortController();
    const first = receiver.waitForCallback('s', controller.signal);
    await assert.rejects(receiver.waitForCallback('s', controller.signal), (error: unknown) => isKeyringError(error, 'usage'));
    controller.abort();
    await assert.rejects(first);
  });
});
