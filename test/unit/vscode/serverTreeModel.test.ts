import assert from 'node:assert/strict';
import type { CredentialStatus } from '../../../src/core/keyring';
import { PendingSignIns } from '../../../src/vscode/pendingSignIns';
import { notificationText, plainLine } from '../../../src/vscode/plainText';
import { accountFacts, attentionOf } from '../../../src/vscode/serverTreeModel';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

function status(overrides: Partial<CredentialStatus> = {}): CredentialStatus {
  return {
    serverUrl: 'https://mcp.example.com/mcp',
    resource: 'https://mcp.example.com/mcp',
    issuer: 'https://as.example.com',
    clientId: 'client-1',
    clientOrigin: 'dynamic-registration',
    account: 'alice',
    accountId: 'account-1',
    isPreferred: true,
    scopes: ['mcp:read', 'mcp:write'],
    obtainedAt: T0,
    expiresAt: T0 + 60 * MINUTE,
    hasRefreshToken: true,
    dpopBound: false,
    needsSignIn: false,
    ...overrides,
  };
}

describe('the view\'s account facts', () => {
  it('says what is stored: authorization server, scopes, client, token kind and last refresh', () => {
    const lastRefresh = { at: T0 + MINUTE, outcome: 'retrying' as const, code: 'network_error' as const };
    const facts = accountFacts(status({ lastRefresh, clientOrigin: 'metadata-document' }), 0);
    assert.equal(facts.account, 'alice');
    assert.equal(facts.authorizationServer, 'https://as.example.com');
    assert.deepEqual(facts.scopes, ['mcp:read', 'mcp:write']);
    assert.equal(facts.clientOrigin, 'metadata-document');
    assert.equal(facts.tokenKind, 'Bearer');
    assert.deepEqual(facts.lastRefresh, lastRefresh);
  });

  it('calls a DPoP-bound token DPoP', () => {
    assert.equal(accountFacts(status({ dpopBound: true }), 0).tokenKind, 'DPoP');
  });

  it('plans the next refresh by the engine\'s rule, with the setting\'s lead', () => {
    assert.deepEqual(accountFacts(status(), 0).nextRefresh, { kind: 'at', at: T0 + 54 * MINUTE });
    assert.deepEqual(accountFacts(status(), 10 * MINUTE).nextRefresh, { kind: 'at', at: T0 + 50 * MINUTE });
  });

  const none: [string, Partial<CredentialStatus>, string][] = [
    ['an account that needs a sign-in', { needsSignIn: true }, 'needsSignIn'],
    ['a token without a refresh token', { hasRefreshToken: false }, 'noRefreshToken'],
    ['a token that never expires', { expiresAt: undefined }, 'noExpiry'],
  ];
  for (const [name, overrides, why] of none) {
    it(`plans no refresh for ${name}, and says why`, () => {
      assert.deepEqual(accountFacts(status(overrides), 0).nextRefresh, { kind: 'none', why });
    });
  }
});

describe('whether a server needs the person', () => {
  const cases: [string, Partial<CredentialStatus>[], { scopes: readonly string[] | undefined } | undefined, string | undefined][] = [
    ['a fresh account', [{}], undefined, undefined],
    ['no account and nothing asked for (an imported server)', [], undefined, undefined],
    ['a refused credential', [{ needsSignIn: true }], undefined, 'signIn'],
    ['a sign-in the relay could not run', [], { scopes: undefined }, 'signIn'],
    ['a demand for more scope', [{}], { scopes: ['mcp:admin'] }, 'stepUp'],
    ['a refresh failing for a transient reason', [{ lastRefresh: { at: T0, outcome: 'retrying', code: 'network_error' } }], undefined, 'refreshFailing'],
    ['a refresh that failed before and then succeeded', [{ lastRefresh: { at: T0, outcome: 'ok' } }], undefined, undefined],
    ['a refused preferred account among several', [{ isPreferred: true, needsSignIn: true }, { isPreferred: false }], undefined, 'signIn'],
    ['a refused account that is not the preferred one', [{ isPreferred: true }, { isPreferred: false, needsSignIn: true }], undefined, undefined],
    ['a failing refresh of an account that is not the preferred one', [{ isPreferred: true }, { isPreferred: false, lastRefresh: { at: T0, outcome: 'retrying', code: 'network_error' } }], undefined, undefined],
  ];
  for (const [name, statuses, pending, expected] of cases) {
    it(`${expected ? `is ${expected}` : 'is nothing'} for ${name}`, () => {
      assert.equal(attentionOf(statuses.map((overrides) => status(overrides)), pending), expected);
    });
  }
});

describe('server text in the view', () => {
  it('stays one line: line breaks, controls and direction overrides become spaces', () => {
    const hostile = 'evil\nAuthorization server: https://good.example\r\u001b[2J\u202etxt.exe\u2066';
    const line = plainLine(hostile);
    for (const character of ['\n', '\r', '\u001b', '\u202e', '\u2066']) assert.ok(!line.includes(character), `${JSON.stringify(character)} is gone`);
    assert.equal(line.length, hostile.length);
  });

  it('breaks the link syntax notifications render, and nothing else a person reads', () => {
    const text = notificationText('[alice](https://evil.example/x) and [run](command:workbench.action.quit)');
    assert.doesNotMatch(text, /\]\(/);
    assert.equal(text.replace(/\u200b/g, ''), '[alice](https://evil.example/x) and [run](command:workbench.action.quit)');
  });

  it('keeps ordinary text, markdown and URLs as the characters they are (the view renders them as plain text)', () => {
    const text = '[click](https://evil.example) **bold** <img src=x> café 東京';
    assert.equal(plainLine(text), text);
  });
});

describe('pending sign-ins', () => {
  it('announces a sign-in becoming pending and being taken, and forgets it once taken', () => {
    const pending = new PendingSignIns();
    const seen: string[] = [];
    pending.onDidChange((url) => seen.push(url));
    pending.record('https://a.example/mcp', ['mcp:admin']);
    assert.deepEqual(pending.peek('https://a.example/mcp'), { scopes: ['mcp:admin'] });
    assert.deepEqual(pending.take('https://a.example/mcp'), { scopes: ['mcp:admin'] });
    assert.equal(pending.peek('https://a.example/mcp'), undefined);
    assert.deepEqual(seen, ['https://a.example/mcp', 'https://a.example/mcp']);
  });

  it('says nothing when forgetting what was not pending', () => {
    const pending = new PendingSignIns();
    let changes = 0;
    pending.onDidChange(() => (changes += 1));
    pending.forget('https://a.example/mcp');
    assert.equal(changes, 0);
  });
});
