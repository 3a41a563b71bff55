// Step-up in the real editor: a tool that needs more scope than the sign-in granted, called through the editor's own
// MCP client. The server's 403 insufficient_scope never reaches the editor (it would start its own OAuth): the relay
// answers 404, the editor reconnects through resolveMcpServerDefinition, which signs in again with the union of the
// scopes (the runner consents in the browser), and the call then succeeds with the wider token. Runs after the other
// suites (files run in name order) on a server of its own, and leaves the settings as it found them.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { serverForSuite, fixtureConfig, extensionId, popupsSince, resultText, signInThroughBrowser, startServerAndFind } from './helpers';
import { runner } from './runner';

const label = 'Step-up MCP server';
/** The fixture tool that needs mcp:admin on top of the base scope (test/fixtures/mcpTools.ts). */
const adminToolName = 'admin_action';

suiteOutsideDesktop('MCP Keyring stepping up in the editor', runnerCannotPlayThePerson, () => {
  const config = fixtureConfig();
  const serverUrl = config.stepUpServerUrl;
  const api = serverForSuite({ url: serverUrl, label });

  test('a tool needing more scope: the editor reconnects, the sign-in asks for the union, the call succeeds with the wider token', async function () {
    this.timeout(120_000);
    await signInThroughBrowser(api(), serverUrl);
    const tools = await startServerAndFind(`${extensionId}/${label}`, `the ${label} tools did not appear in vscode.lm.tools`, () => {
      // The editor prefixes tool names with the server's name from its initialize answer ('step-up').
      const own = vscode.lm.tools.filter((tool) => tool.name.startsWith('mcp_step-up_'));
      const admin = own.find((tool) => tool.name.endsWith(adminToolName));
      const whoami = own.find((tool) => tool.name.endsWith('whoami'));
      if (!admin || !whoami) throw new Error(`the editor lists ${vscode.lm.tools.map((tool) => tool.name).join(', ')}`);
      return { admin, whoami };
    });
    const grantedScopes = async (): Promise<string[]> => {
      const result = await vscode.lm.invokeTool(tools.whoami.name, { input: {}, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
      return String((JSON.parse(resultText(result)) as { scope?: string }).scope ?? '').split(' ');
    };
    assert.deepEqual(await grantedScopes(), ['mcp:read'], 'the first sign-in asked for the scope the server announced, no more');

    const before = await runner.state();
    const cancellation = new vscode.CancellationTokenSource();
    try {
      const result = await vscode.lm.invokeTool(tools.admin.name, { input: {}, toolInvocationToken: undefined }, cancellation.token);
      assert.equal(resultText(result), 'admin action done');
    } finally {
      cancellation.dispose();
    }
    const after = await runner.state();

    assert.ok(after.stepUpMcp.forbidden > before.stepUpMcp.forbidden, 'the server never asked for more scope (no 403)');
    // The relay's 404 ended the editor's MCP session, and the editor opened a new one once the sign-in was done. That
    // the editor saw no 401 or 403 on the way is the runner's check of the editor's MCP logs after the run.
    assert.equal(after.stepUpMcp.initializeRequests, before.stepUpMcp.initializeRequests + 1, 'the editor did not reconnect');
    const popups = await popupsSince(before.popups.length);
    assert.equal(popups.length, 1, `the editor opened ${popups.length} tabs for the step-up: ${JSON.stringify(popups)}`);
    assert.equal(popups[0]!.error, undefined);
    assert.match(popups[0]!.finishedAt ?? '', new RegExp(`^${config.codeServerOrigin}/.*/callback$`), 'the step-up came back through the URI handler');
    // Counted as codes exchanged, not tokens issued: the background refresh of the first token may also run meanwhile.
    assert.equal(after.issued.exchangedCodes, before.issued.exchangedCodes + 1, 'one sign-in for the step-up');
    assert.deepEqual((await grantedScopes()).sort(), ['mcp:admin', 'mcp:read'], 'the new token carries the union of the scopes');
  });
});
