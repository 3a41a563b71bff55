import assert from 'node:assert/strict';
import { isKeyringError } from '../../../src/core/errors';
import { EXTENSION_ID, URI_CALLBACK_PATH } from '../../../src/vscode/ids';
import { UriHandlerCallbacks, type UriHandlerCallbacksOptions } from '../../../src/vscode/uriHandlerReceiver';
import { FakeTime } from '../core/fakes';
import { RecordingLogger } from './fakes';

/** Stands in for vscode.Uri: prints as the URI it was made from. */
class FakeUri {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const STATE_A = 'c3RhdGUtZm9yLXNlcnZlci1hLWxvbmctZW5vdWdoLXRvLWJl';
const STATE_B = 'c3RhdGUtZm9yLXNlcnZlci1iLWxvbmctZW5vdWdoLXRvLWJl';
const CODE = 'SplxlOBeZQQYbYS6WxSbIA';

function setup(options: Partial<UriHandlerCallbacksOptions<FakeUri>> = {}): { callbacks: UriHandlerCallbacks<FakeUri>; logger: RecordingLogger; time: FakeTime; requested: string[] } {
  const logger = new RecordingLogger();
  const time = new FakeTime();
  const requested: string[] = [];
  const callbacks = new UriHandlerCallbacks<FakeUri>({
    uriScheme: 'vscode',
    parseUri: (value) => new FakeUri(value),
    asExternalUri: (uri) => Promise.resolve((requested.push(uri.value), uri)),
    logger,
    timeoutMs: 60_000,
    timers: time,
    ...options,
  });
  return { callbacks, logger, time, requested };
}

function callback(query: string, path = URI_CALLBACK_PATH): { path: string; query: string } {
  return { path, query };
}

/**
 * `uri.query` as desktop VS Code hands it over: the OS passes the raw URL and `vscode.Uri.parse` percent-decodes each
 * run of escapes (vs/base/common/uri.ts, percentDecode), leaving `+` as it is.
 */
function desktopQuery(params: Record<string, string>): string {
  const raw = new URLSearchParams(params).toString();
  return raw.replace(/(%[0-9A-Za-z][0-9A-Za-z])+/g, (escapes) => decodeURIComponent(escapes));
}

/** `uri.query` as a web editor hands it over: its callback page passes the parameters on with URLSearchParams.toString(). */
function webQuery(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

describe('UriHandlerCallbacks', () => {
  it('gives a desktop redirect URI on the editor\'s own scheme', async () => {
    const { callbacks, requested } = setup();
    const receiver = await callbacks.createReceiver();
    assert.equal(receiver.redirectUri, `vscode://${EXTENSION_ID}/callback`);
    assert.deepEqual(requested, [`vscode://${EXTENSION_ID}/callback`]);
    receiver.dispose();
  });

  it('keeps a web editor\'s external URI exactly, its own query included, and asks for it afresh each sign-in', async () => {
    let request = 0;
    const { callbacks, requested } = setup({
      uriScheme: 'code-oss',
      asExternalUri: (uri) => {
        requested.push(uri.value);
        return Promise.resolve(new FakeUri(`https://code.example/callback?vscode-reqid=${++request}&vscode-scheme=code-oss&vscode-authority=${EXTENSION_ID}&vscode-path=%2Fcallback`));
      },
    });
    const first = await callbacks.createReceiver();
    const second = await callbacks.createReceiver();
    assert.equal(first.redirectUri, `https://code.example/callback?vscode-reqid=1&vscode-scheme=code-oss&vscode-authority=${EXTENSION_ID}&vscode-path=%2Fcallback`);
    assert.match(second.redirectUri, /vscode-reqid=2/);
    assert.deepEqual(requested, [`code-oss://${EXTENSION_ID}/callback`, `code-oss://${EXTENSION_ID}/callback`]);
    callbacks.dispose();
  });

  it('resolves with the callback URL once a callback carries the expected state', async () => {
    const { callbacks } = setup();
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    callbacks.handleUri(callback(desktopQuery({ code: CODE, state: STATE_A, iss: 'https://as.example' })));
    const url = await waiting;
    assert.equal(`${url.protocol}//${url.host}${url.pathname}`, `vscode://${EXTENSION_ID}/callback`);
    assert.equal(url.searchParams.get('code'), CODE);
    assert.equal(url.searchParams.get('state'), STATE_A);
    assert.equal(url.searchParams.get('iss'), 'https://as.example');
  });

  it('builds the callback URL on a web redirect URI from the callback\'s query alone', async () => {
    const { callbacks } = setup({ asExternalUri: () => Promise.resolve(new FakeUri('https://code.example/callback?vscode-reqid=1&vscode-path=%2Fcallback')) });
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    callbacks.handleUri(callback(`code=${CODE}&state=${STATE_A}`));
    const url = await waiting;
    assert.equal(`${url.origin}${url.pathname}`, 'https://code.example/callback');
    assert.deepEqual([...url.searchParams.keys()], ['code', 'state']);
  });

  it('passes on an error callback for the engine to report', async () => {
    const { callbacks, logger } = setup();
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    callbacks.handleUri(callback(`error=access_denied&state=${STATE_A}`));
    assert.equal((await waiting).searchParams.get('error'), 'access_denied');
    assert.ok(logger.lines.includes('info [uriHandler] received a callback reporting an error'));
  });

  const strangers: [string, string][] = [
    ['another state', `code=${CODE}&state=${STATE_B}`],
    ['no state', `code=${CODE}`],
    ['a prefix of the state', `code=${CODE}&state=${STATE_A.slice(0, -1)}`],
    ['the state with more after it', `code=${CODE}&state=${STATE_A}x`],
    ['an empty state', `code=${CODE}&state=`],
  ];
  for (const [name, query] of strangers) {
    it(`ignores a callback with ${name}, logs it without its query, and keeps waiting`, async () => {
      const { callbacks, logger } = setup();
      const receiver = await callbacks.createReceiver();
      const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
      callbacks.handleUri(callback(query));
      assert.deepEqual(logger.lines, ['warn [uriHandler] ignored a callback that matches no pending sign-in']);
      callbacks.handleUri(callback(`code=right&state=${STATE_A}`));
      assert.equal((await waiting).searchParams.get('code'), 'right');
      assert.ok(logger.lines.every((line) => !line.includes(CODE) && !line.includes(STATE_A)));
    });
  }

  it('ignores a URI for another path', async () => {
    const { callbacks, logger } = setup();
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    callbacks.handleUri(callback(`code=${CODE}&state=${STATE_A}`, '/elsewhere'));
    assert.deepEqual(logger.lines, ['info [uriHandler] ignored a URI that is not a sign-in callback']);
    receiver.dispose();
    await assert.rejects(waiting, (error) => isKeyringError(error, 'cancelled'));
  });

  it('routes each callback to its own sign-in when several are pending', async () => {
    const { callbacks } = setup();
    const [first, second] = await Promise.all([callbacks.createReceiver(), callbacks.createReceiver()]);
    const waitingA = first.waitForCallback(STATE_A, new AbortController().signal);
    const waitingB = second.waitForCallback(STATE_B, new AbortController().signal);
    callbacks.handleUri(callback(`code=for-b&state=${STATE_B}`));
    callbacks.handleUri(callback(`code=for-a&state=${STATE_A}`));
    assert.equal((await waitingA).searchParams.get('code'), 'for-a');
    assert.equal((await waitingB).searchParams.get('code'), 'for-b');
  });

  it('accepts only the first callback for a sign-in; a replay finds nobody waiting', async () => {
    const { callbacks, logger } = setup();
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    callbacks.handleUri(callback(`code=first&state=${STATE_A}`));
    callbacks.handleUri(callback(`code=second&state=${STATE_A}`));
    assert.equal((await waiting).searchParams.get('code'), 'first');
    assert.equal(logger.lines.at(-1), 'warn [uriHandler] ignored a callback that matches no pending sign-in');
  });

  it('fails with timeout when the browser never comes back, and leaves no timer', async () => {
    const { callbacks, time } = setup({ timeoutMs: 1_000 });
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    const outcome = assert.rejects(waiting, (error) => isKeyringError(error, 'timeout'));
    await time.advance(1_000);
    await outcome;
    assert.equal(time.pendingTimers, 0);
  });

  it('fails with cancelled when the sign-in is aborted, and clears its timer', async () => {
    const { callbacks, time } = setup();
    const receiver = await callbacks.createReceiver();
    const abort = new AbortController();
    const waiting = receiver.waitForCallback(STATE_A, abort.signal);
    abort.abort();
    await assert.rejects(waiting, (error) => isKeyringError(error, 'cancelled'));
    assert.equal(time.pendingTimers, 0);
  });

  it('fails with cancelled at once for a signal already aborted', async () => {
    const { callbacks, time } = setup();
    const receiver = await callbacks.createReceiver();
    await assert.rejects(receiver.waitForCallback(STATE_A, AbortSignal.abort()), (error) => isKeyringError(error, 'cancelled'));
    assert.equal(time.pendingTimers, 0);
  });

  it('refuses to wait twice on one receiver', async () => {
    const { callbacks } = setup();
    const receiver = await callbacks.createReceiver();
    const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
    await assert.rejects(receiver.waitForCallback(STATE_A, new AbortController().signal), (error) => isKeyringError(error, 'usage'));
    receiver.dispose();
    await assert.rejects(waiting, (error) => isKeyringError(error, 'cancelled'));
  });

  it('cancels every pending sign-in when disposed, and ignores callbacks afterwards', async () => {
    const { callbacks, time, logger } = setup();
    const [first, second] = await Promise.all([callbacks.createReceiver(), callbacks.createReceiver()]);
    const waitingA = first.waitForCallback(STATE_A, new AbortController().signal);
    const waitingB = second.waitForCallback(STATE_B, new AbortController().signal);
    callbacks.dispose();
    await assert.rejects(waitingA, (error) => isKeyringError(error, 'cancelled'));
    await assert.rejects(waitingB, (error) => isKeyringError(error, 'cancelled'));
    assert.equal(time.pendingTimers, 0);
    callbacks.handleUri(callback(`code=${CODE}&state=${STATE_A}`));
    assert.equal(logger.lines.at(-1), 'warn [uriHandler] ignored a callback that matches no pending sign-in');
  });
  describe('codes as the server sent them, whatever characters they hold', () => {
    const codes = ['a+b', 'a b', 'a%2Fb%', '100%', 'a=b==', 'x&y', 'ä€/?#'];
    const editors = [
      { kind: 'web', query: webQuery, externalUri: 'https://code.example/callback?vscode-reqid=1', codes },
      // A desktop editor has decoded the query before the handler sees it: an escaped `&` is a separator by then, and
      // a space the server form-encoded as `+` looks like a plus (codes hold pluses, base64 ones do; never spaces).
      { kind: 'desktop', query: desktopQuery, externalUri: `vscode://${EXTENSION_ID}/callback`, codes: codes.filter((each) => !/[& ]/.test(each)) },
    ];
    for (const editor of editors) {
      for (const code of editor.codes) {
        it(`reads the code ${JSON.stringify(code)} from a ${editor.kind} editor's callback`, async () => {
          const { callbacks } = setup({ asExternalUri: () => Promise.resolve(new FakeUri(editor.externalUri)) });
          const receiver = await callbacks.createReceiver();
          const waiting = receiver.waitForCallback(STATE_A, new AbortController().signal);
          callbacks.handleUri(callback(editor.query({ code, state: STATE_A, iss: 'https://as.example/t?x=1' })));
          const url = await waiting;
          assert.equal(url.searchParams.get('code'), code);
          assert.equal(url.searchParams.get('iss'), 'https://as.example/t?x=1');
          assert.equal(url.searchParams.get('state'), STATE_A);
        });
      }
    }
  });
});
