// The MCP Keyring view in the real workbench, read by the runner as a person sees it: a server expands to its account
// and the account to what is stored about it; the hover says the same as plain text; opening and expanding the view
// sends no request to any server; a refresh the server refuses lights the badge and the status bar item, whose click
// signs in again and puts both out. Runs on a server of its own and leaves the settings as it found them.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { eventually, fixtureConfig, nextEvent, serverForSuite, signInThroughBrowser } from './helpers';
import { runner, type ViewReading } from './runner';

const label = 'View MCP server';

suiteOutsideDesktop('the MCP Keyring view', runnerCannotPlayThePerson, () => {
  const config = fixtureConfig();
  const serverUrl = config.viewServerUrl;
  // Registered first, so that it runs before the server's entry is put back.
  suiteTeardown(async () => {
    try {
      await api().signOut(serverUrl);
    } catch {
      // Nothing to sign out of: the setup did not get that far.
    }
  });
  const api = serverForSuite({ url: serverUrl, label });
  suiteSetup(async function () {
    this.timeout(120_000);
    await signInThroughBrowser(api(), serverUrl);
  });

  /** The rows under the server's row, up to the next server. */
  function rowsUnder(reading: ViewReading): ViewReading['rows'] {
    const start = reading.rows.findIndex((row) => row.level === 1 && row.label === label);
    assert.ok(start >= 0, `the view has no row for ${label}: ${JSON.stringify(reading.rows)}`);
    const end = reading.rows.findIndex((row, index) => index > start && row.level === 1);
    return reading.rows.slice(start + 1, end < 0 ? undefined : end);
  }

  test('expands the server to its account and the account to its authorization server, scopes, client, token kind and refreshes', async function () {
    this.timeout(60_000);
    // The view redraws the server's row once the sign-in's change reaches it.
    const under = await eventually(`an account under ${label}`, 15_000, async () => {
      const rows = rowsUnder(await runner.readView());
      return rows.some((row) => row.level === 2) ? rows : undefined;
    });
    const facts = Object.fromEntries(under.filter((row) => row.level === 3).map((row) => [row.label, row.description]));
    assert.equal(facts['Authorization server'], config.issuer);
    assert.match(facts['Granted scopes'] ?? '', /\bmcp:read\b/);
    assert.match(facts.Client ?? '', /^registered · \S+$/);
    assert.equal(facts.Token, 'Bearer');
    assert.match(facts['Last refresh'] ?? '', /^(none yet \(signed in .+\)|succeeded .+)$/);
    assert.match(facts['Next refresh'] ?? '', /^(in (< 1 min|\d+ min|\d+ h \d+ min) \(.+\)|due now)$/);
  });

  test('opening and expanding the view reaches no server: only the background refreshes ask the token endpoint', async function () {
    this.timeout(60_000);
    let refreshes = 0;
    const counting = api().onDidChangeCredentials((change) => (refreshes += change.kind === 'refreshed' ? 1 : 0));
    try {
      const before = await runner.state();
      await runner.readView();
      await runner.readView();
      const after = await runner.state();
      const tokenRequests = after.tokenRequests - before.tokenRequests;
      assert.equal(after.fixtureRequests - before.fixtureRequests - tokenRequests, 0, 'requests other than token requests reached the fixture servers while the view was read');
      assert.ok(tokenRequests <= refreshes, `${tokenRequests} token requests, but only ${refreshes} background refreshes`);
    } finally {
      counting.dispose();
    }
  });

  test("the account's hover says the same in plain text: the issuer URL is no link", async function () {
    this.timeout(60_000);
    const reading = await runner.readView();
    const account = rowsUnder(reading).find((row) => row.level === 2)!;
    const { hover } = await runner.readView(account.label);
    assert.ok(hover, 'no hover');
    assert.match(hover.text, new RegExp(`Authorization server: ${config.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(hover.text, /Token: Bearer/);
    assert.equal(hover.markupElements, 0, `the hover drew markup: ${hover.text}`);
  });

  test('a refused refresh lights the badge and the status bar item; its click signs in again and puts both out', async function () {
    this.timeout(120_000);
    const before = await runner.readView();
    const badgeBefore = Number(before.badge ?? 0);
    await runner.failNextTokenRequest(400, 'invalid_grant');
    const needsSignIn = nextEvent(api().onDidChangeCredentials, 'needsSignIn', 30_000, (change) => change.kind === 'needsSignIn');
    // Refresh Now from the palette, as a person would; the command reports the refusal itself.
    const refreshNow = vscode.commands.executeCommand('mcpKeyring.refreshNow');
    await runner.answerQuickInput('Refresh which server?', { text: label });
    await Promise.resolve(refreshNow).catch(() => undefined);
    await needsSignIn;
    const refused = (await api().listServers()).filter((server) => server.needsSignIn).map((server) => server.url);
    assert.ok(refused.includes(serverUrl), `the refused refresh was another server's (${refused.join(', ')}): the background scheduler took it`);

    const lit = await eventually('the badge counting one more server', 10_000, async () => {
      const reading = await runner.readView();
      return Number(reading.badge ?? 0) === badgeBefore + 1 ? reading : undefined;
    });
    const item = badgeBefore === 0 ? `Sign in to ${label}` : 'MCP servers need you';
    assert.ok(lit.statusBar.some((text) => text.includes(item)), `no status bar item saying "${item}": ${JSON.stringify(lit.statusBar)}`);

    if (badgeBefore !== 0) return;
    const signedIn = nextEvent(api().onDidChangeCredentials, 'signedIn', 60_000, (change) => change.kind === 'signedIn');
    await runner.setPopupMode('complete');
    await runner.clickStatusBarItem(item);
    await signedIn;
    const out = await eventually('the badge and the status bar item going out', 10_000, async () => {
      const reading = await runner.readView();
      return reading.badge === undefined && !reading.statusBar.some((text) => text.includes(item)) ? reading : undefined;
    });
    assert.equal(out.badge, undefined);
  });
});
