// The engine's side of accounts a front end lends (the editor's GitHub and Microsoft sign-ins), where a refusal or a
// sign-out must be told apart from the engine's own credentials: over a fake network, with a hook that hands out
// numbered tokens, and an MCP server that refuses every token it is sent.
import assert from 'node:assert/strict';
import type { ExternalAccounts, ExternalRenewalTrigger, ExternalSignInRequest } from '../../../src/core/externalAccounts';
import { Emitter, type CredentialChange } from '../../../src/core/events';
import { Keyring } from '../../../src/core/keyring';
import type { Network } from '../../../src/core/ports';
import { fakeClock, flush, json, rejectsWithCode, MemoryStore } from './fakes';

const SERVER_URL = 'https://mcp.example/mcp';
const METADATA_URL = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
const ISSUER = 'https://as.example';
const LENT_CLIENT_ID = 'front-end:test';

/** The servers' metadata over a fake network; the MCP server's probe asks for a Bearer token. */
const network: Network = {
  probe: () => Promise.resolve({
    response: new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${METADATA_URL}"` } }),
    addressClass: 'public',
  }),
  fetch: (url) => {
    if (url.href === METADATA_URL) return Promise.resolve(json({ resource: SERVER_URL, authorization_servers: [ISSUER] }));
    if (url.href === `${ISSUER}/.well-known/oauth-authorization-server`) {
      return Promise.resolve(json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, code_challenge_methods_supported: ['S256'] }));
    }
    return Promise.resolve(new Response('not found', { status: 404 }));
  },
};

/** A front end lending one account, each sign-in and renewal a new token; what it was asked, in order. */
function lendingFrontEnd() {
  const asked: (ExternalRenewalTrigger | 'signIn' | 'holds')[] = [];
  const signIns: ExternalSignInRequest[] = [];
  const accountChanges = new Emitter<string>();
  let issued = 0;
  let isSignedIn = true;
  const hook: ExternalAccounts = {
    signIn: (request) => {
      asked.push('signIn');
      signIns.push(request);
      return Promise.resolve({ clientId: LENT_CLIENT_ID, account: 'octocat', subject: '583231', tokens: { accessToken: `lent-${++issued}`, tokenType: 'bearer' } });
    },
    owns: (clientId) => clientId === LENT_CLIENT_ID,
    renew: (_credential, { trigger }) => {
      asked.push(trigger);
      return Promise.resolve({ accessToken: `lent-${++issued}`, tokenType: 'bearer' });
    },
    onDidChangeAccounts: accountChanges.event,
    holds: () => {
      asked.push('holds');
      return Promise.resolve(isSignedIn);
    },
  };
  /** The person signs out of the account at the front end (or only another session changes, when `isSignedIn`). */
  const announce = (stillSignedIn: boolean) => {
    isSignedIn = stillSignedIn;
    accountChanges.fire(LENT_CLIENT_ID);
  };
  return { hook, asked, signIns, announce };
}

function keyringWith(externalAccounts: ExternalAccounts, store = new MemoryStore()): Keyring {
  return Keyring.create({
    store,
    network,
    clock: fakeClock(),
    externalAccounts,
    // The MCP server refuses every token, as one does a token of an account that has no access to it.
    fetch: () => Promise.resolve(new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${METADATA_URL}"` } })),
    openUrl: () => Promise.reject(new Error('a lent account never opens the browser')),
    createReceiver: () => Promise.reject(new Error('a lent account never opens the browser')),
  });
}

function callServer(keyring: Keyring): Promise<Response> {
  return keyring.fetchFor(SERVER_URL, { interactive: true })(SERVER_URL, { method: 'POST', body: '{}' });
}

describe('Keyring: accounts a front end lends', () => {
  describe('a lent token the server refuses a moment after it was obtained', () => {
    it('ends the request blaming the account, not a missing audience, when the first sign-in\'s token is refused', async () => {
      const { hook, asked } = lendingFrontEnd();
      const failure = await rejectsWithCode(callServer(keyringWith(hook)), 'unauthorized');
      assert.deepEqual(asked, ['signIn'], 'signing in alike again would only get another refused token');
      assert.equal(failure.missing, undefined);
      assert.match(failure.message, /account the front end lent.*may lack access/);
    });

    it('ends the request blaming the account when a renewed token, then a new sign-in\'s, are refused too', async () => {
      const { hook, asked } = lendingFrontEnd();
      const keyring = keyringWith(hook);
      await keyring.signIn(SERVER_URL);
      const failure = await rejectsWithCode(callServer(keyring), 'unauthorized');
      assert.deepEqual(asked, ['signIn', 'rejected', 'signIn']);
      assert.equal(failure.missing, undefined, 'no audience parameter reaches a token the front end\'s provider chose');
      assert.match(failure.message, /account the front end lent.*may lack access/);
    });
  });

  it('tells the front end when the person adds another account, so that it lets them choose one', async () => {
    const { hook, signIns } = lendingFrontEnd();
    const keyring = keyringWith(hook);
    await keyring.signIn(SERVER_URL);
    await keyring.signIn(SERVER_URL, { anotherAccount: true });
    assert.deepEqual(signIns.map(({ hasSignedInBefore, isAnotherAccount }) => ({ hasSignedInBefore, isAnotherAccount })), [
      { hasSignedInBefore: false, isAnotherAccount: false },
      { hasSignedInBefore: true, isAnotherAccount: true },
    ]);
  });

  it('names the account a caller asked for, so that the front end asks for that one and not for any', async () => {
    const { hook, signIns } = lendingFrontEnd();
    const keyring = keyringWith(hook);
    await keyring.signIn(SERVER_URL);
    const lent = signIns.length;
    await keyring.getAccessToken(SERVER_URL, { interactive: true, account: 'octocat-2' }).catch(() => undefined);
    assert.deepEqual(signIns.slice(lent).map(({ account, isAnotherAccount }) => ({ account, isAnotherAccount })), [{ account: 'octocat-2', isAnotherAccount: true }]);
    assert.equal(signIns[0]!.account, undefined, 'a plain sign-in names no account');
  });

  describe('the front end\'s accounts changing', () => {
    it('leaves a lent credential in use while the front end still holds its account', async () => {
      const { hook, asked, announce } = lendingFrontEnd();
      const keyring = keyringWith(hook);
      await keyring.signIn(SERVER_URL);
      const changes: CredentialChange[] = [];
      keyring.onDidChangeCredentials((change) => changes.push(change));
      announce(true);
      await flush();
      assert.deepEqual(asked, ['signIn', 'holds']);
      assert.deepEqual(changes, []);
      assert.equal((await keyring.getAccessToken(SERVER_URL, { interactive: false })).accessToken, 'lent-1');
    });

    it('marks a lent credential as needing sign-in once its account is gone, and asks the front end for nothing', async () => {
      const { hook, asked, announce } = lendingFrontEnd();
      const keyring = keyringWith(hook);
      await keyring.signIn(SERVER_URL);
      const announced = new Promise<CredentialChange>((resolve) => keyring.onDidChangeCredentials(resolve));
      announce(false);
      assert.equal((await announced).kind, 'needsSignIn');
      await rejectsWithCode(keyring.getAccessToken(SERVER_URL, { interactive: false }), 'needs_sign_in');
      assert.deepEqual(asked, ['signIn', 'holds']);
      const [status] = await keyring.status(SERVER_URL);
      assert.deepEqual([status?.needsSignIn, status?.lastRefresh?.code], [true, 'signed_out']);
    });
  });
});
