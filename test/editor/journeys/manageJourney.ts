// The tree's commands that ask first, answered as a person answers them (the in-editor suite cannot: its test mode
// refuses modal dialogs): Copy Access Token behind its warning, Reset Registration, and Remove, which signs out
// with revocation and takes the server out of the settings.
import { completeAuthorizationInPage } from '../authorizationPages';
import { check, JourneyEditor } from './journeyEditor';
import { startJourneyServers } from './journeyServers';
import { authorizationTab, serverLabel, type JourneyContext } from './journeySteps';

export async function manageJourney({ vsix }: JourneyContext): Promise<string[]> {
  await using servers = await startJourneyServers();
  const { mcpServer, authorizationServer } = servers;
  await using editor = await JourneyEditor.open({
    journey: 'manage',
    vsix,
    userSettings: { 'mcpKeyring.allowInsecureLoopback': true, 'mcpKeyring.servers': [{ url: mcpServer.url }] },
  });
  // As a person's browser would after they allowed it, so the journey can read what was copied.
  await editor.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: editor.codeServer.origin });
  return await editor.steps(async () => {
    const label = serverLabel(mcpServer.url);
    const signIn = async (): Promise<void> => {
      const tab = await authorizationTab(editor, () => editor.contextAction(label, 'Sign In…'));
      await completeAuthorizationInPage(tab.page, { login: servers.login, authorizationServerOrigin: new URL(authorizationServer.issuer).origin });
      await editor.page.bringToFront();
      await editor.waitForServerState(label, /^Signed in as /);
    };
    await editor.openKeyringView();
    await editor.waitForServerState(label, /^Not signed in$/);
    await signIn();
    await editor.widenSideBar();

    await editor.contextAction(label, 'Copy Access Token');
    const warning = await editor.dialog();
    check((await warning.innerText()).includes('Anyone who sees it can use it'), 'Copy Access Token warns before copying');
    await editor.shot('copy-token-warning');
    await warning.getByRole('button', { name: 'Copy', exact: true }).click();
    await warning.waitFor({ state: 'hidden' });
    // The command copies after the dialog closes; read until the token has arrived (or the time is up).
    const copied = await copiedToken(editor, mcpServer.url);
    check(copied, 'the copied text is an access token the MCP server accepts');

    // A credential outlives its client's registration only uselessly (no refresh, no revocation): Reset signs out first.
    const revokedBeforeReset = authorizationServer.requestCount('revocation');
    await editor.contextAction(label, 'Reset Registration…');
    const reset = await editor.dialog();
    check((await reset.innerText()).includes('Sign out of') && (await reset.innerText()).includes('The next sign-in registers again'), 'Reset Registration says what it does');
    await editor.shot('reset-registration');
    await reset.getByRole('button', { name: 'Reset', exact: true }).click();
    await reset.waitFor({ state: 'hidden' });
    await editor.waitForServerState(label, /^Not signed in$/);
    check(authorizationServer.requestCount('revocation') > revokedBeforeReset, 'resetting the registration revoked the credential with the old client first');
    const registrationsBefore = authorizationServer.requestCount('registration');
    await signIn();
    check(authorizationServer.requestCount('registration') > registrationsBefore, 'the sign-in after the reset registered again');

    const revocationsBefore = authorizationServer.requestCount('revocation');
    await editor.contextAction(label, 'Remove');
    const remove = await editor.dialog();
    check((await remove.innerText()).includes(`Remove ${label} and sign out of it?`), 'Remove asks, naming the server');
    await editor.shot('remove-confirm');
    await remove.getByRole('button', { name: 'Remove', exact: true }).click();
    await editor.serverRow(label).waitFor({ state: 'detached', timeout: 30_000 });
    await editor.shot('removed');
    // (The journey servers issue JWT access tokens, which stay valid until they expire whatever is revoked.)
    check(authorizationServer.requestCount('revocation') > revocationsBefore, 'removing the server revoked its tokens at the authorization server');
    return editor.screenshots;
  });
}

/** Whether the clipboard comes to hold a token the MCP server accepts within a few seconds. */
async function copiedToken(editor: JourneyEditor, serverUrl: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await editor.page.evaluate(() => navigator.clipboard.readText());
    if (text && (await isAcceptedBy(serverUrl, text))) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** Whether the MCP server accepts `token` for an initialize request (the token itself is never printed). */
async function isAcceptedBy(serverUrl: string, token: string): Promise<boolean> {
  const response = await fetch(serverUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'journey', version: '0' } } }),
  });
  await response.body?.cancel();
  return response.ok;
}
