// Signing in to a server behind better-auth in the real editor: the editor opens better-auth's authorization
// endpoint, the runner plays the person on the app's own sign-in and consent pages in Chromium, the sign-in comes
// back through the editor's default redirect, and a tool is then called through the editor's own MCP client. Leaves
// the settings as it found them.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { serverForSuite, callEcho, extensionId, fixtureConfig, popupsSince, signInThroughBrowser, startServerAndFind } from './helpers';
import { runner } from './runner';

const label = 'better-auth MCP server';

suiteOutsideDesktop('MCP Keyring signing in at better-auth', runnerCannotPlayThePerson, () => {
  const config = fixtureConfig();
  const serverUrl = config.betterAuthServerUrl;
  const api = serverForSuite({ url: serverUrl, label });

  test('signs in on the app\'s own pages and calls a tool through the editor\'s MCP client', async function () {
    this.timeout(120_000);
    const before = (await runner.state()).popups.length;
    await signInThroughBrowser(api(), serverUrl);
    const popups = await popupsSince(before);
    assert.equal(popups.length, 1, `the editor opened ${popups.length} tabs: ${JSON.stringify(popups)}`);
    const origin = new URL(serverUrl).origin;
    // The runner records a tab once it has a page: better-auth's authorization endpoint has sent it to the app's sign-in.
    assert.equal(popups[0]!.openedAt, `${origin}/sign-in`, 'the tab showed the app\'s sign-in page');
    assert.match(popups[0]!.finishedAt ?? '', new RegExp(`^${config.codeServerOrigin}/.*/callback$`), 'the sign-in came back through the URI handler');

    // The editor names tools after the server's name in its initialize answer ('better-auth-mcp').
    const echo = await startServerAndFind(`${extensionId}/${label}`, `the ${label} tools did not appear in vscode.lm.tools`, () => {
      const tool = vscode.lm.tools.find((each) => each.name.includes('better-auth') && each.name.endsWith('echo'));
      if (!tool) throw new Error(`the editor lists ${vscode.lm.tools.map((each) => each.name).join(', ')}`);
      return tool;
    });
    assert.equal(await callEcho(echo, 'signed in at better-auth'), 'signed in at better-auth');
  });
});
