// A server whose authorization server offers no registration: Add Server asks for a client id registered there, and
// the person signs in with a device code (RFC 8628). In a web editor that is the honest way for a pre-registered
// client: the URI handler's redirect URI carries a per-request id, which no registration can list in advance.
import type { ClientMetadata } from 'oidc-provider';
import { completeAuthorizationInPage } from '../authorizationPages';
import { check, JourneyEditor } from './journeyEditor';
import { startJourneyServers } from './journeyServers';
import { authorizationTab, serverLabel, type JourneyContext } from './journeySteps';

/** What an administrator registered for MCP Keyring at the authorization server: a public client for the device grant. */
const preRegisteredClient: ClientMetadata = {
  client_id: 'mcp-keyring-team',
  token_endpoint_auth_method: 'none',
  grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  response_types: [],
  redirect_uris: [],
};

export async function preRegisteredClientJourney({ vsix }: JourneyContext): Promise<string[]> {
  await using servers = await startJourneyServers({ registration: false, deviceFlow: { intervalSeconds: 1 }, clients: [preRegisteredClient] });
  await using editor = await JourneyEditor.open({
    journey: 'pre-registered-client',
    vsix,
    userSettings: { 'mcpKeyring.allowInsecureLoopback': true, 'mcpKeyring.redirectStrategy': 'deviceCode' },
  });
  return await editor.steps(async () => {
    const { mcpServer, authorizationServer } = servers;
    const label = serverLabel(mcpServer.url);
    const issuerOrigin = new URL(authorizationServer.issuer).origin;

    await editor.runCommand('MCP Keyring: Add Server…');
    await editor.quickInput('Add MCP Server');
    await editor.page.keyboard.type(mcpServer.url);
    await editor.page.keyboard.press('Enter');

    const clientIdBox = await editor.quickInput('Client id needed');
    const prompt = await clientIdBox.locator('.quick-input-message').innerText();
    check(prompt.includes(issuerOrigin) && prompt.includes('does not let MCP Keyring register itself'), `the input box says why a client id is needed: "${prompt}"`);
    await editor.page.keyboard.type(preRegisteredClient.client_id);
    await editor.shot('client-id-needed');
    await editor.page.keyboard.press('Enter');

    const found = await editor.toast(/^Added /);
    await editor.shot('server-added');
    const tab = await authorizationTab(editor, () => found.getByRole('button', { name: 'Sign In' }).click());

    // The editor shows the code; the verification page, opened with the code in it, asks to confirm the same code.
    const codeToast = await editor.toast(/^To sign in, enter the code /);
    const shownCode = /enter the code (.+) at /.exec(await codeToast.locator('.notification-list-item-message').innerText())?.[1];
    check(shownCode, 'the notification shows a user code');
    await editor.shot('device-code-shown');
    const confirmation = tab.page.locator('form[id="op.deviceConfirmForm"]');
    await confirmation.waitFor({ state: 'attached', timeout: 30_000 });
    const pageCode = (await tab.page.locator('p').first().innerText()).trim();
    check(pageCode === shownCode, `the verification page asks to confirm the code the editor shows ("${pageCode}" vs "${shownCode}")`);
    await editor.shot('verification-page-confirm-code', tab.page);

    await completeAuthorizationInPage(tab.page, { login: servers.login, authorizationServerOrigin: issuerOrigin });
    check(tab.shotsTaken.includes('login') && tab.shotsTaken.includes('consent'), `the login and consent pages were shown (saw ${tab.shotsTaken.join(', ') || 'neither'})`);
    await editor.shot('verification-page-done', tab.page);

    await editor.page.bringToFront();
    await editor.toast(new RegExp(`^Signed in to .* as ${servers.login}\\.$`));
    await editor.openKeyringView();
    await editor.waitForServerState(label, /^Signed in as alice · expires in \d+ min$/);
    await editor.widenSideBar();
    await editor.shot('tree-signed-in');
    check(authorizationServer.requestCount('registration') === 0, 'MCP Keyring did not try to register');
    check(authorizationServer.requestCount('authorization') === 0, 'no authorization code redirect was started');
    check(authorizationServer.requestCount('token') > 0, 'the device code was exchanged at the token endpoint');
    return editor.screenshots;
  });
}
