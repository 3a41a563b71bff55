// MCP Keyring inside the real editor, against the real authorization server and MCP servers the runner started:
// sign-in through the URI handler and through loopback, background refresh, the editor's MCP client calling tools
// across refreshes, SecretStorage, and sign-out. The tests run in order and build on each other, as a person would.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { mochaLinePrefix } from './editorTestConfig';
import { accountLabels, assertNoFailures, callEcho, currentCredential, eventually, extensionId, fixtureConfig, fixtureEchoTool, nextEvent, providerId, popupsSince, resultText, signInThroughBrowser, silentSession, startFixtureEchoTool, type KeyringApi } from './helpers';
import { runner } from './runner';

suite('MCP Keyring in the editor', function () {
  const config = fixtureConfig();
  let api: KeyringApi;
  /** What each refresh test leaves for the next. */
  let signedInCredential: number | undefined;
  let signedOut = false;

  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<KeyringApi>(extensionId);
    assert.ok(extension, `${extensionId} is not loaded`);
    api = await extension.activate();
  });

  suite('activation', () => {
    test('registers the authentication provider, which has no session before any sign-in', async () => {
      const session = await silentSession(config.serverUrl);
      assert.equal(session, undefined);
      assert.deepEqual(await accountLabels(), []);
    });

    test('registers every command the manifest contributes', async () => {
      const extension = vscode.extensions.getExtension(extensionId)!;
      const contributed = ((extension.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands).map((each) => each.command);
      assert.ok(contributed.length >= 5, `only ${contributed.length} commands in the manifest`);
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.deepEqual(contributed.filter((command) => !registered.has(command)), []);
    });

    test('exports no way to get a token: other extensions ask the authentication API, which asks the person', () => {
      // Whatever activate() returns, every installed extension can call, and none of them is named to it.
      assert.deepEqual(Object.keys(api).sort(), ['listServers', 'onDidChangeCredentials', 'signIn', 'signOut']);
    });

    test('lists the servers from the user settings, signed out', async () => {
      const servers = await api.listServers();
      assert.deepEqual(servers.map((server) => [server.url, server.signedIn]), [[config.serverUrl, false], [config.loopbackServerUrl, false]]);
    });
  });

  suiteOutsideDesktop('sign-in through the URI handler', runnerCannotPlayThePerson, () => {
    test('signs in through the browser and the editor callback, then offers the account to the editor', async () => {
      const sessionsChanged = nextEvent(vscode.authentication.onDidChangeSessions, 'onDidChangeSessions for mcp-keyring', 60_000, (event) => event.provider.id === providerId);
      const before = await runner.state();
      await signInThroughBrowser(api, config.serverUrl);
      signedInCredential = await currentCredential(api, config.serverUrl);
      assert.ok(signedInCredential, 'not signed in after the sign-in');
      await sessionsChanged;

      // Without openid in the scopes there is no id token naming the person; the account is named after the server.
      assert.equal((await accountLabels()).length, 1, `accounts: ${(await accountLabels()).join(', ')}`);
      // The session went to no one: the editor hands sessions only to extensions the person allowed.
      assert.equal(await silentSession(config.serverUrl), undefined, 'getSession(silent) handed out a session nobody allowed');

      const popups = await popupsSince(before.popups.length);
      assert.equal(popups.length, 1, `the editor opened ${popups.length} tabs: ${JSON.stringify(popups)}`);
      assert.equal(popups[0]!.error, undefined);
      // In code-server the URI handler's callback is an http URL on the editor's own origin.
      assert.ok(popups[0]!.finishedAt?.startsWith(`${config.codeServerOrigin}/`), `the authorization server sent the browser to ${popups[0]!.finishedAt}`);
      assert.match(popups[0]!.finishedAt ?? '', /\/callback$/);
    });
  });

  suiteOutsideDesktop('sign-in through loopback', runnerCannotPlayThePerson, () => {
    test('signs in with a local listener when the server entry asks for it', async function () {
      // The redirect table rules loopback out in web editors: the extension host's 127.0.0.1 is not the browser's.
      if (vscode.env.uiKind === vscode.UIKind.Web) this.skip();
      const before = await runner.state();
      await signInThroughBrowser(api, config.loopbackServerUrl);
      assert.ok(await currentCredential(api, config.loopbackServerUrl), 'not signed in after the sign-in');
      const popups = await popupsSince(before.popups.length);
      assert.equal(popups.length, 1, `the editor opened ${popups.length} tabs: ${JSON.stringify(popups)}`);
      const finishedAt = new URL(popups[0]!.finishedAt ?? 'about:blank');
      assert.equal(finishedAt.hostname, '127.0.0.1', `the authorization server sent the browser to ${popups[0]!.finishedAt}`);
      assert.notEqual(finishedAt.origin, config.codeServerOrigin, 'the loopback sign-in went through the editor callback');
    });

    test('in a web editor, a server entry asking for loopback signs in through the editor callback instead', async function () {
      if (vscode.env.uiKind !== vscode.UIKind.Web) this.skip();
      const before = await runner.state();
      await signInThroughBrowser(api, config.loopbackServerUrl);
      assert.ok(await currentCredential(api, config.loopbackServerUrl), 'not signed in after the sign-in');
      const popups = await popupsSince(before.popups.length);
      assert.equal(popups.length, 1, `the editor opened ${popups.length} tabs: ${JSON.stringify(popups)}`);
      assert.equal(popups[0]!.error, undefined);
      assert.match(popups[0]!.finishedAt ?? '', new RegExp(`^${config.codeServerOrigin}/.*/callback$`), `the authorization server sent the browser to ${popups[0]!.finishedAt}`);
      const servers = await api.listServers();
      assert.deepEqual(servers.map((server) => [server.url, server.signedIn]), [[config.serverUrl, true], [config.loopbackServerUrl, true]]);
    });
  });

  suiteOutsideDesktop('background refresh', runnerCannotPlayThePerson, () => {
    test('refreshes short-lived tokens without a prompt and announces the changed session', async () => {
      const before = await runner.state();
      const refreshed = nextEvent(api.onDidChangeCredentials, 'a background refresh', 30_000, (change) => change.serverUrl === config.serverUrl && change.kind === 'refreshed');
      const sessionsChanged = nextEvent(vscode.authentication.onDidChangeSessions, 'onDidChangeSessions after the refresh', 30_000, (event) => event.provider.id === providerId);
      await refreshed;
      await sessionsChanged;
      const credential = await currentCredential(api, config.serverUrl);
      assert.ok(credential, 'no credential after the refresh');
      assert.notEqual(credential, signedInCredential, 'the keyring still holds the credential from the sign-in');
      const after = await runner.state();
      assert.equal(after.popups.length, before.popups.length, 'the refresh opened a browser tab');
      assert.ok(after.tokenRequests > before.tokenRequests, 'the token endpoint saw no refresh request');
    });
  });

  suiteOutsideDesktop("the editor's MCP client", runnerCannotPlayThePerson, () => {
    test('calls tools continuously across three refreshes: every call succeeds, one MCP session, no 401, no prompt', async function () {
      this.timeout(120_000);
      const echo = await startFixtureEchoTool();
      await runner.mark('tool-calls');
      // A refresh is a new token in the keyring; the events announcing them are counted apart, as a diagnostic.
      const tokens = new Set([await currentCredential(api, config.serverUrl)]);
      let refreshEvents = 0;
      const counting = api.onDidChangeCredentials((change) => {
        if (change.serverUrl !== config.serverUrl || change.kind !== 'refreshed') return;
        refreshEvents += 1;
        void currentCredential(api, config.serverUrl).then((credential) => tokens.add(credential));
      });
      const refreshes = (): number => tokens.size - 1;
      const failures: string[] = [];
      let calls = 0;
      try {
        const deadline = Date.now() + 90_000;
        // Calls go on until the third refresh has come and gone, so at least one call uses the newest token.
        let callsAfterThird = 0;
        while (callsAfterThird < 2 && Date.now() < deadline) {
          const text = `call ${calls}`;
          try {
            const answer = await callEcho(echo, text);
            if (answer !== text) failures.push(`${text} returned ${JSON.stringify(answer)}`);
          } catch (error) {
            failures.push(`${text} failed: ${(error as Error).name}: ${(error as Error).message}`);
          }
          calls += 1;
          if (refreshes() >= 3) callsAfterThird += 1;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      } finally {
        counting.dispose();
      }
      assert.deepEqual(failures, [], `${failures.length} of ${calls} tool calls did not succeed`);
      console.log(`${mochaLinePrefix}      ${calls} calls, ${refreshes()} refreshes announced by ${refreshEvents} events`);
      assert.ok(refreshes() >= 3, `only ${refreshes()} refreshes in 90 s of calls`);
      assertNoFailures(await runner.check('tool-calls', 'tool-calls'));
      // Each event's token is read after the event; the last read may still be on its way.
      await eventually(`${refreshes()} refreshes were announced by ${refreshEvents} onDidChangeCredentials events`, 5_000, () => Promise.resolve(refreshEvents === refreshes() ? true : undefined));
    });
  });

  suiteOutsideDesktop('SecretStorage', runnerCannotPlayThePerson, () => {
    test('holds the credentials in the browser profile, encrypted: no token is readable there', async () => {
      const result = await runner.check('secret-storage');
      assertNoFailures(result);
    });
  });

  suiteOutsideDesktop('sign-out', runnerCannotPlayThePerson, () => {
    test("the Accounts menu's sign-out revokes at the server and removes both sessions", async () => {
      await runner.mark('sign-out');
      const [account] = await vscode.authentication.getAccounts(providerId);
      assert.ok(account, 'the provider offers no account to sign out of');
      // What Accounts → <account> → Sign Out runs (the workbench's own command, with the menu's arguments).
      await vscode.commands.executeCommand('_signOutOfAccount', { providerId, accountLabel: account.label });
      await eventually('the provider still offers an account after the sign-out', 10_000, async () => ((await accountLabels()).length === 0 ? true : undefined));
      signedOut = true;
      assert.equal(await currentCredential(api, config.serverUrl), undefined, 'a credential for the server is left');
      assert.equal(await currentCredential(api, config.loopbackServerUrl), undefined, 'a credential for the loopback server is left');
      const servers = await api.listServers();
      assert.deepEqual(servers.filter((server) => server.signedIn).map((server) => server.url), []);
      assertNoFailures(await runner.check('revoked', 'sign-out'));
    });

    test("a tool call through the editor's connection no longer succeeds silently", async function () {
      this.timeout(60_000);
      if (!signedOut) this.skip();
      await runner.setPopupMode('hold');
      const before = await runner.state();
      const echo = fixtureEchoTool();
      assert.ok(echo, 'the echo tool is gone from vscode.lm.tools');
      const cancellation = new vscode.CancellationTokenSource();
      const text = 'after sign-out';
      const outcome = await Promise.race([
        Promise.resolve(vscode.lm.invokeTool(echo.name, { input: { text }, toolInvocationToken: undefined }, cancellation.token))
          .then((result) => ({ kind: 'answered' as const, text: resultText(result) }), (error: unknown) => ({ kind: 'failed' as const, text: String(error) })),
        // A sign-in prompt (a browser tab) is the editor asking the person: not silent either.
        eventually('no prompt', 20_000, async () => ((await runner.state()).popups.length > before.popups.length ? true : undefined))
          .then(() => ({ kind: 'prompted' as const, text: '' }), () => ({ kind: 'timed out' as const, text: '' })),
      ]);
      cancellation.cancel();
      cancellation.dispose();
      assert.ok(!(outcome.kind === 'answered' && outcome.text === text), 'the tool call succeeded after the sign-out');
      const after = await runner.state();
      assert.equal(after.mcp.acceptedRequests, before.mcp.acceptedRequests, 'the MCP server accepted a request after the sign-out');
      console.log(`${mochaLinePrefix}      after sign-out the tool call ${outcome.kind}${outcome.text ? `: ${outcome.text.slice(0, 200)}` : ''}`);
    });
  });
});
