// The editor's own GitHub Enterprise Server account, through VS Code's built-in `github-enterprise` authentication
// provider (code-server ships it) pointed by `github-enterprise.uri` at the loopback GitHub Enterprise Server fixture,
// which is the authorization server of an MCP server built with the SDK. MCP Keyring offers the editor's account, the
// person takes it, the editor asks to let MCP Keyring sign in with it, and the provider signs in by device code (its
// only flow for a GitHub Enterprise Server from a remote extension host); the runner plays the person at each dialog
// and on the device page. Then a tool call through the editor's MCP client reaches the server with that token, and a
// token the server refuses makes MCP Keyring ask the provider again.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { readEditorTestConfig } from './editorTestConfig';
import { activateWithServer, extensionId, resultText, startServerAndFind, type KeyringApi } from './helpers';
import { runner } from './runner';

suiteOutsideDesktop("MCP Keyring with the editor's GitHub Enterprise Server account", runnerCannotPlayThePerson, () => {
  const config = readEditorTestConfig();
  const serverUrl = String(config.gheServerUrl);
  const login = String(config.gheLogin);
  const label = 'GHE MCP server';
  let api: KeyringApi;
  let restoreServers: (() => Thenable<void>) | undefined;

  suiteSetup(async function () {
    ({ api, restoreServers } = await activateWithServer({ url: serverUrl, label }));
  });

  suiteTeardown(async () => {
    await restoreServers?.();
  });

  /** The dialogs of one sign-in through the provider: the editor's consent for MCP Keyring, then the provider's device code. */
  async function approveProviderSignIn(): Promise<void> {
    await runner.clickDialogButton('Allow');
    const code = await runner.clickDialogButton('Copy & Continue to Browser');
    assert.match(code.message, /Your Code/i, 'the provider did not show a device code');
  }

  function echoTool(): vscode.LanguageModelToolInformation | undefined {
    return vscode.lm.tools.find((tool) => tool.name.startsWith('mcp_ghe-mcp_') && tool.name.endsWith('echo'));
  }

  async function callEcho(tool: vscode.LanguageModelToolInformation, text: string): Promise<string> {
    const cancellation = new vscode.CancellationTokenSource();
    try {
      return resultText(await vscode.lm.invokeTool(tool.name, { input: { text }, toolInvocationToken: undefined }, cancellation.token));
    } finally {
      cancellation.dispose();
    }
  }

  test("offers the editor's account, signs in through the built-in provider, and the tool call carries its token", async function () {
    this.timeout(180_000);
    const before = await runner.state();
    const signingIn = api.signIn(serverUrl);
    const offer = await runner.clickDialogButton("Use the Editor's Account");
    assert.match(offer.message, /GitHub Enterprise Server account/, `the offer said: ${offer.message}`);
    await approveProviderSignIn();
    await signingIn;

    const afterSignIn = await runner.state();
    assert.equal(afterSignIn.ghe.issued, before.ghe.issued + 1, 'the GitHub Enterprise Server issued no token');
    const providerRequests = afterSignIn.ghe.requests.slice(before.ghe.requests.length);
    for (const request of ['POST /login/device/code', 'POST /login/oauth/access_token', 'GET /api/v3/user']) {
      assert.ok(providerRequests.includes(request), `the provider never sent ${request}: ${providerRequests.join(', ')}`);
    }
    assert.equal(afterSignIn.registrations.length, before.registrations.length, 'MCP Keyring registered a client of its own');
    assert.ok((await vscode.authentication.getAccounts('github-enterprise')).some((account) => account.label === login), 'the editor holds no GitHub Enterprise Server account');
    const session = await vscode.authentication.getSession('mcp-keyring', [`resource:${serverUrl}`], { silent: true });
    assert.equal(session?.account.label, login, 'MCP Keyring does not serve the account the provider signed in');

    const tool = await startServerAndFind(`${extensionId}/${label}`, 'the GHE server tools did not appear in vscode.lm.tools', echoTool);
    assert.equal(await callEcho(tool, 'through the editor account'), 'through the editor account');
    const afterCall = await runner.state();
    const accepted = afterCall.ghe.acceptedTokens.slice(before.ghe.acceptedTokens.length);
    assert.ok(accepted.length > 0 && accepted.every((index) => index === afterSignIn.ghe.issued - 1), `the MCP server accepted tokens ${accepted.join(', ')}, not only the one the provider got`);

    const view = await runner.readView();
    assert.ok(view.rows.some((row) => `${row.label} ${row.description}`.includes("the editor's GitHub Enterprise Server account")), `the view does not name the editor's account: ${JSON.stringify(view.rows)}`);
  });

  test('a token the server refuses makes MCP Keyring ask the provider again, and the call succeeds with the new one', async function () {
    this.timeout(180_000);
    const tool = echoTool();
    assert.ok(tool, 'the previous test did not leave the GHE server started');
    const before = await runner.state();
    await runner.revokeGitHubEnterpriseTokens();
    // The relay finds the provider has no other token without the person; the editor reconnects and the sign-in asks
    // the provider for a new session (no offer: this server already uses the editor's account).
    const calling = callEcho(tool, 'after the refusal');
    await approveProviderSignIn();
    assert.equal(await calling, 'after the refusal');

    const after = await runner.state();
    assert.equal(after.ghe.issued, before.ghe.issued + 1, 'the provider was not asked for a new token');
    const accepted = after.ghe.acceptedTokens.slice(before.ghe.acceptedTokens.length);
    assert.ok(accepted.length > 0 && accepted.every((index) => index === after.ghe.issued - 1), `the MCP server accepted tokens ${accepted.join(', ')}, not only the new one`);
  });

  test("signing out forgets MCP Keyring's use of the account and leaves the person signed in to GitHub Enterprise Server in the editor", async () => {
    await api.signOut(serverUrl);
    assert.ok(!(await api.listServers()).find((server) => server.url === serverUrl)?.signedIn, 'still signed in');
    assert.ok((await vscode.authentication.getAccounts('github-enterprise')).some((account) => account.label === login), 'the editor lost its GitHub Enterprise Server account');
  });
});
