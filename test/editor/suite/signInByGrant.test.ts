// A server configured with the client credentials grant, in the real editor: its client secret is typed once into
// "Set Server Secret…" (by the runner, so the suite never holds it), tokens come without any browser, they are
// DPoP-bound because the server accepts nothing else, and the editor's MCP client calls a tool through the relay,
// which signs every request with a proof. Runs after the main suites (files run in name order) and restores settings.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { serverForSuite, fixtureConfig, extensionId, resultText, startServerAndFind } from './helpers';
import { runner } from './runner';

suiteOutsideDesktop('MCP Keyring with a machine grant', runnerCannotPlayThePerson, () => {
  const { machineServerUrl: serverUrl, machineClientId: clientId } = fixtureConfig();
  const label = 'Machine MCP server';
  const api = serverForSuite({ url: serverUrl, label, clientId, clientAuthMethod: 'client_secret_basic', grant: 'client_credentials' });

  test('takes the client secret once through Set Server Secret…, and gets DPoP-bound tokens without a browser', async function () {
    this.timeout(60_000);
    const before = await runner.state();
    const setting = vscode.commands.executeCommand('mcpKeyring.setServerSecret', serverUrl);
    await runner.answerQuickInput('client secret', { secretOf: 'machineClient' });
    await setting;
    // The grant runs with no person: no tab opens. That its tokens are DPoP-bound shows in the next test, whose server
    // accepts only bound tokens with their proofs.
    await api().signIn(serverUrl);
    const after = await runner.state();
    assert.ok(after.tokenRequests > before.tokenRequests, 'no token request was made');
    assert.equal(after.popups.length, before.popups.length, 'a browser tab was opened');
    assert.ok((await api().listServers()).find((server) => server.url === serverUrl)?.signedIn, 'not signed in after the grant');
  });

  test("lets the editor's MCP client call a tool through the relay, which adds a fresh proof to every request", async function () {
    this.timeout(90_000);
    const traffic = await runner.state();
    const whoamiTools = () => vscode.lm.tools.filter((tool) => tool.name.endsWith('whoami')).map((tool) => tool.name);
    const before = whoamiTools();
    // The editor names tools after the server's own name, which all fixture servers share: the new one is this server's.
    const whoami = await startServerAndFind(`${extensionId}/${label}`, `a new whoami tool in vscode.lm.tools (had ${before.join(', ')})`, () => whoamiTools().find((name) => !before.includes(name)));
    const cancellation = new vscode.CancellationTokenSource();
    try {
      const result = await vscode.lm.invokeTool(whoami, { input: {}, toolInvocationToken: undefined }, cancellation.token);
      // A client credentials token speaks for the client, not a person: it has the scope, and no subject.
      assert.deepEqual(JSON.parse(resultText(result)), { scope: 'mcp:read' });
    } finally {
      cancellation.dispose();
    }
    const after = await runner.state();
    assert.ok(after.machineMcp.acceptedRequests > traffic.machineMcp.acceptedRequests, 'the MCP server accepted no request');
    const refusals = after.machineMcp.dpopRefusals.slice(traffic.machineMcp.dpopRefusals.length);
    assert.deepEqual(refusals.filter((reason) => reason !== 'nonce required'), [], 'a request reached the server without a valid proof');
    assert.ok(refusals.includes('nonce required'), 'the server never asked the editor\'s connection for a nonce, so the nonce retry was not exercised');
  });
});
