// A person who turns the consent page down: the editor says access was denied, in plain words, and the server stays
// signed out (the tree names the error and offers Sign In again) with no token issued.
import { completeAuthorizationInPage } from '../authorizationPages';
import { check, JourneyEditor } from './journeyEditor';
import { startJourneyServers } from './journeyServers';
import { authorizationTab, serverLabel, type JourneyContext } from './journeySteps';

export async function deniedConsentJourney({ vsix }: JourneyContext): Promise<string[]> {
  await using servers = await startJourneyServers();
  await using editor = await JourneyEditor.open({ journey: 'denied-consent', vsix, userSettings: { 'mcpKeyring.allowInsecureLoopback': true } });
  return await editor.steps(async () => {
    const { mcpServer, authorizationServer } = servers;
    const label = serverLabel(mcpServer.url);

    await editor.runCommand('MCP Keyring: Add Server…');
    await editor.quickInput('Add MCP Server');
    await editor.page.keyboard.type(mcpServer.url);
    await editor.page.keyboard.press('Enter');
    const found = await editor.toast(/^Added /);

    const tab = await authorizationTab(editor, () => found.getByRole('button', { name: 'Sign In' }).click());
    await completeAuthorizationInPage(tab.page, { login: servers.login, consent: 'deny', authorizationServerOrigin: new URL(authorizationServer.issuer).origin });
    check(tab.shotsTaken.includes('consent-denied'), `the consent page was turned down (saw ${tab.shotsTaken.join(', ') || 'no page'})`);

    await editor.page.bringToFront();
    const denied = await editor.toast('MCP Keyring: Access was denied at the authorization server.');
    check((await denied.locator('.codicon-error').count()) > 0, 'the denial is shown as an error');
    await editor.openKeyringView();
    // No credential: the item keeps its signed-out state and offers Sign In again, naming what went wrong.
    await editor.waitForServerState(label, /^Error: access_denied$/);
    check(await editor.serverRow(label).locator('.actions .action-label[aria-label^="Sign In"]').count() > 0, 'the item offers to sign in again');
    await editor.widenSideBar();
    await editor.shot('denied-not-signed-in');
    check(authorizationServer.requestCount('token') === 0, 'no token was issued after the denial');
    return editor.screenshots;
  });
}
