// Two accounts of one server in the real editor: sign in as alice, add bob with Sign in with Another Account… (the
// authorization server asks for a fresh login although the browser is still signed in as alice), switch the server to
// bob and see the editor's MCP client reach the server as bob, then sign out of bob only and keep alice.
import { completeAuthorizationInPage } from '../authorizationPages';
import { check, JourneyEditor } from './journeyEditor';
import { startJourneyServers } from './journeyServers';
import { authorizationTab, serverLabel, startServer, type JourneyContext } from './journeySteps';

export async function accountsJourney({ vsix }: JourneyContext): Promise<string[]> {
  await using servers = await startJourneyServers();
  const { mcpServer, authorizationServer } = servers;
  await using editor = await JourneyEditor.open({
    journey: 'accounts',
    vsix,
    userSettings: { 'mcpKeyring.allowInsecureLoopback': true, 'mcpKeyring.servers': [{ url: mcpServer.url }] },
  });
  return await editor.steps(async () => {
    const label = serverLabel(mcpServer.url);
    const authorizationServerOrigin = new URL(authorizationServer.issuer).origin;
    await editor.openKeyringView();
    await editor.waitForServerState(label, /^Not signed in$/);
    await editor.widenSideBar();

    const aliceTab = await authorizationTab(editor, () => editor.contextAction(label, 'Sign In…'));
    await completeAuthorizationInPage(aliceTab.page, { login: 'alice', authorizationServerOrigin });
    await editor.page.bringToFront();
    await editor.waitForServerState(label, /^Signed in as alice/);
    await editor.shot('signed-in-as-alice');

    const bobTab = await authorizationTab(editor, () => editor.contextAction(label, 'Sign in with Another Account…'));
    await completeAuthorizationInPage(bobTab.page, { login: 'bob', authorizationServerOrigin });
    check(bobTab.shotsTaken.includes('login'), `the authorization server asked for a fresh login for another account (saw ${bobTab.shotsTaken.join(', ') || 'no page'})`);
    await editor.page.bringToFront();
    const added = await editor.toast(/^Signed in to .* as bob\. It still uses alice\.$/);
    await editor.shot('added-bob');
    check(/^Signed in as alice/.test(await editor.serverState(label)), 'adding bob left alice in use');
    await added.locator('.codicon-notifications-clear, .codicon-close').first().click().catch(() => undefined);

    await editor.contextAction(label, 'Switch Account…');
    const pick = await editor.quickInput(/^Which account should .* use\?$/);
    const rows = pick.locator('.monaco-list-row');
    await rows.filter({ hasText: 'alice' }).first().waitFor({ timeout: 10_000 });
    check((await rows.filter({ hasText: 'alice' }).first().innerText()).includes('in use'), 'the pick marks alice as the account in use');
    await editor.shot('switch-account');
    await rows.filter({ hasText: /^bob/ }).first().click();
    await editor.toast(/ now uses bob\.$/);
    await editor.waitForServerState(label, /^Signed in as bob/);
    await editor.shot('switched-to-bob');

    const seenBefore = mcpServer.seenTokens.length;
    await startServer(editor, label, 'mcp-server-started-as-bob');
    const subjects = new Set(mcpServer.seenTokens.slice(seenBefore).map(subjectOf));
    check(subjects.size === 1 && subjects.has('bob'), `the editor's MCP client reached the server as bob only (saw ${[...subjects].join(', ') || 'no request'})`);

    const revocationsBefore = authorizationServer.requestCount('revocation');
    await editor.contextAction(label, 'Sign Out…');
    const whom = await editor.quickInput(/^Sign out of .* as whom\?$/);
    await editor.shot('sign-out-which-account');
    await whom.locator('.monaco-list-row', { hasText: /^bob/ }).first().click();
    const dialog = await editor.dialog();
    check((await dialog.innerText()).includes(`Sign out of ${label} as bob?`), 'the sign-out dialog names the server and the account');
    await dialog.getByRole('button', { name: 'Sign Out' }).click();
    await editor.toast(`Signed out of ${label} as bob.`);
    await editor.waitForServerState(label, /^Signed in as alice/);
    await editor.shot('signed-out-bob-kept-alice');
    check(authorizationServer.requestCount('revocation') > revocationsBefore, 'signing out of bob revoked his tokens at the authorization server');
    return editor.screenshots;
  });
}

/** The `sub` of a JWT access token the journey's authorization server issued (read, never printed whole). */
function subjectOf(token: string): string | undefined {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub;
  } catch {
    return undefined;
  }
}
