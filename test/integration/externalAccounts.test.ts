// The engine with a front end that lends accounts it already holds (the editor's GitHub and Microsoft sign-ins), against
// oidc-provider: the front end here is a second keyring signed in to the same server, standing in for the editor's
// provider. What is checked is the engine's side: when it asks, what it keeps, how it renews, what it never revokes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ExternalAccounts, ExternalRenewalTrigger, ExternalSignInRequest } from '../../src/core/externalAccounts';
import { isKeyringError } from '../../src/core/errors';
import { Emitter, type CredentialChange } from '../../src/core/events';
import type { Keyring } from '../../src/core/keyring';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import type { TestBrowser } from '../fixtures/testBrowser';
import { createCliHarness, type CliHarness } from './cliHarness';
import { createTestKeyring } from './testKeyring';

const LENT_CLIENT_ID = 'front-end:test';

describe('accounts a front end lends the engine', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;
  let frontEnd: Keyring;
  let signIns: ExternalSignInRequest[];
  let renewals: { trigger: ExternalRenewalTrigger; interactive: boolean }[];
  /** The front end's sign-ins and sign-outs, as the editor's providers announce them. */
  const accountChanges = new Emitter<string>();

  /** The front end's account: whatever its own keyring holds for the server now, signed in when it holds nothing. */
  const hook: ExternalAccounts = {
    signIn: async (request) => {
      signIns.push(request);
      const credential = await frontEnd.getAccessToken(request.serverUrl, { interactive: true });
      return { clientId: LENT_CLIENT_ID, account: credential.account, subject: 'lent-subject', tokens: { accessToken: credential.accessToken, tokenType: 'bearer' } };
    },
    owns: (clientId) => clientId === LENT_CLIENT_ID,
    renew: async (credential, request) => {
      renewals.push({ trigger: request.trigger, interactive: request.interactive });
      const renewed = await frontEnd.getAccessToken(credential.serverUrl, { interactive: true });
      return { accessToken: renewed.accessToken, tokenType: 'bearer' };
    },
    onDidChangeAccounts: accountChanges.event,
    holds: async (credential) => (await frontEnd.status(credential.serverUrl)).some((status) => !status.needsSignIn),
  };

  async function initialize(keyring: Keyring): Promise<number> {
    const response = await keyring.fetchFor(mcp.url, { interactive: false })(mcp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } }),
    });
    await response.body?.cancel();
    return response.status;
  }

  before(async function () {
    // Opaque tokens die with their grant: the front end's sign-out makes the lent token one the server refuses.
    as = await startAuthorizationServer({ accessTokenFormat: 'opaque' });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });

  after(async function () {
    await mcp.close();
    await as.close();
  });

  beforeEach(async function () {
    cli = await createCliHarness();
    frontEnd = await createTestKeyring(join(cli.storeDirectory, 'front-end'), cli.browser);
    signIns = [];
    renewals = [];
  });

  it('is asked after discovery with the issuer and scopes, and its token reaches the server, with no client of our own', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser, { externalAccounts: hook });
    const credential = await keyring.signIn(mcp.url);
    assert.equal(signIns.length, 1);
    assert.equal(signIns[0]!.issuer, as.issuer);
    assert.equal(signIns[0]!.serverUrl, mcp.url);
    assert.equal(signIns[0]!.hasSignedInBefore, false);
    assert.equal(credential.clientId, LENT_CLIENT_ID);
    const [status] = await keyring.status(mcp.url);
    assert.equal(status?.hasRefreshToken, false, 'a lent account keeps no refresh token');
    const seen = mcp.seenTokens.length;
    assert.equal(await initialize(keyring), 200);
    assert.deepEqual(new Set(mcp.seenTokens.slice(seen)), new Set([credential.accessToken]), 'the server saw the lent token only');
  });

  it('asks the front end again, as refused, when the server refuses the lent token', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser, { externalAccounts: hook });
    const lent = await keyring.signIn(mcp.url);
    await frontEnd.signOut(mcp.url);
    assert.equal(await initialize(keyring), 200);
    assert.deepEqual(renewals, [{ trigger: 'rejected', interactive: false }]);
    const renewed = await keyring.getAccessToken(mcp.url, { interactive: false });
    assert.notEqual(renewed.accessToken, lent.accessToken);
    assert.equal(mcp.seenTokens.at(-1), renewed.accessToken);
  });

  it('signs in again through the front end, without an offer, for a server that used its account', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser, { externalAccounts: hook });
    await keyring.signIn(mcp.url);
    await keyring.signIn(mcp.url);
    assert.deepEqual(signIns.map((request) => request.hasSignedInBefore), [false, true]);
  });

  it('revokes nothing at sign-out: the token is the front end\'s sign-in', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser, { externalAccounts: hook });
    await keyring.signIn(mcp.url);
    const revocations = as.requestCount('revocation');
    const result = await keyring.signOut(mcp.url);
    assert.deepEqual(result.revoked, []);
    assert.equal(as.requestCount('revocation'), revocations);
    // Throws not_signed_in if the front end's sign-in had ended with ours.
    await frontEnd.getAccessToken(mcp.url, { interactive: false });
  });

  it('stops using a lent account the front end signed out of, asking nobody, and keeps the server bound to the front end', async function () {
    const noBrowser = { open: () => Promise.reject(new Error('nobody is asked from the background')) } as unknown as TestBrowser;
    const keyring = await createTestKeyring(cli.storeDirectory, noBrowser, { externalAccounts: hook });
    const lent = await keyring.signIn(mcp.url);
    const announced = new Promise<CredentialChange>((resolve) => keyring.onDidChangeCredentials(resolve));
    await frontEnd.signOut(mcp.url);
    accountChanges.fire(LENT_CLIENT_ID);
    assert.equal((await announced).kind, 'needsSignIn');
    const [status] = await keyring.status(mcp.url);
    assert.equal(status?.needsSignIn, true, 'kept, marked as needing sign-in');
    const seen = mcp.seenTokens.length;
    await assert.rejects(initialize(keyring), (error: unknown) => isKeyringError(error, 'unauthorized'));
    assert.ok(!mcp.seenTokens.slice(seen).includes(lent.accessToken), 'the lent token was not sent again');
    assert.deepEqual(renewals, [], 'the front end was not asked for a token from the background');
    assert.equal(signIns.length, 1);
    await keyring.signIn(mcp.url);
    assert.deepEqual(signIns.map((request) => request.hasSignedInBefore), [false, true], 'signing in again asks the front end without an offer');
    assert.equal((await keyring.status(mcp.url))[0]?.needsSignIn, false);
  });

  it('is not asked for a server configured with a client id of its own', async function () {
    // The sign-in goes its usual way, to the browser, where this test stops it.
    const stopped = new AbortController();
    let browserOpens = 0;
    const browser = { open: () => { browserOpens += 1; stopped.abort(); return Promise.resolve(); } } as unknown as TestBrowser;
    const keyring = await createTestKeyring(cli.storeDirectory, browser, {
      externalAccounts: hook,
      serverOptions: (serverUrl) => Promise.resolve(serverUrl === mcp.url ? { client: { clientId: 'configured-client' } } : undefined),
    });
    await assert.rejects(keyring.signIn(mcp.url, { signal: stopped.signal }), (error: unknown) => isKeyringError(error, 'cancelled'));
    assert.equal(browserOpens, 1, 'the sign-in did not reach the browser');
    assert.equal(signIns.length, 0);
  });
});
