// The editor's own GitHub Enterprise Server account, in the real editor with the built-in `github-enterprise`
// authentication provider that code-server ships, pointed by `github-enterprise.uri` at the loopback GitHub
// Enterprise Server fixture (recreated from GitHub's documentation), which is the authorization server of an MCP
// server built with the SDK. MCP Keyring offers the editor's account; the person takes it; the editor asks to let MCP
// Keyring use GitHub Enterprise Server; the provider signs in by device code (its only flow for a GitHub Enterprise
// Server from a remote extension host). The editor's MCP client then reaches the server with the provider's token;
// when the server refuses it, MCP Keyring asks the provider again. Signing out of the account in the editor's Accounts
// menu makes MCP Keyring stop using it, asking nobody. Signing out in MCP Keyring forgets the binding only.
// A journey, not an in-editor suite test: in extension test mode the workbench refuses every modal dialog
// (`DialogService: refused to show dialog in tests`), and the provider's device code is one.
import { completeAuthorizationInPage } from '../authorizationPages';
import { startGitHubEnterpriseMcpServer, startGitHubEnterpriseServer, type GitHubEnterpriseServer } from '../../fixtures/githubEnterpriseServer';
import type { SdkProtectedMcpServer } from '../../fixtures/sdkProtectedMcpServer';
import { check, JourneyEditor } from './journeyEditor';
import { authorizationTab, serverLabel, startServer, type JourneyContext } from './journeySteps';

/** Off localhost, for the reason journeyServers.ts gives: code-server would proxy a 127.0.0.1 page it opens. */
const GITHUB_ENTERPRISE_HOST = '127.0.0.2';

export async function editorAccountJourney({ vsix }: JourneyContext): Promise<string[]> {
  const gitHubEnterprise = await startGitHubEnterpriseServer(GITHUB_ENTERPRISE_HOST);
  const mcpServer = await startGitHubEnterpriseMcpServer(gitHubEnterprise).catch(async (error: unknown) => {
    await gitHubEnterprise.close();
    throw error;
  });
  try {
    return await walk(vsix, gitHubEnterprise, mcpServer);
  } finally {
    await mcpServer.close();
    await gitHubEnterprise.close();
  }
}

async function walk(vsix: string, gitHubEnterprise: GitHubEnterpriseServer, mcpServer: SdkProtectedMcpServer): Promise<string[]> {
  const issued = () => gitHubEnterprise.issuedTokens.length;
  await using editor = await JourneyEditor.open({
    journey: 'editor-account',
    vsix,
    userSettings: { 'mcpKeyring.allowInsecureLoopback': true, 'mcpKeyring.servers': [{ url: mcpServer.url }], 'github-enterprise.uri': gitHubEnterprise.origin },
  });
  // The provider copies the device code to the clipboard before it opens the browser.
  await editor.browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  return await editor.steps(async () => {
    const label = serverLabel(mcpServer.url);
    await editor.openKeyringView();
    await editor.waitForServerState(label, /^Not signed in$/);
    await editor.widenSideBar();

    await editor.contextAction(label, 'Sign In…');
    const offer = await dialogOffering(editor, "Use the Editor's Account");
    check((await offer.innerText()).includes("signs in with the editor's GitHub Enterprise Server account"), 'the offer names the editor account');
    check((await offer.innerText()).includes('Use My Own App or Client'), 'the offer keeps a client of the person\'s own possible');
    await editor.shot('offer-editor-account');
    await offer.getByRole('button', { name: "Use the Editor's Account" }).click();
    const tab = await approveProviderSignIn(editor, 'first');
    await completeAuthorizationInPage(tab.page, { authorizationServerOrigin: gitHubEnterprise.origin });
    await editor.page.bringToFront();
    await editor.waitForServerState(label, new RegExp(`^Signed in as ${gitHubEnterprise.login}`), 60_000);
    await editor.shot('signed-in-with-editor-account');
    check(issued() === 1, `the GitHub Enterprise Server issued one token (issued ${issued()})`);
    for (const request of ['POST /login/device/code', 'POST /login/oauth/access_token', 'GET /api/v3/user']) {
      check(gitHubEnterprise.requests.includes(request), `the provider sent ${request} (sent ${gitHubEnterprise.requests.join(', ')})`);
    }

    await startServer(editor, label, 'mcp-server-started-with-editor-token');
    check(mcpServer.seenTokens.length > 0 && mcpServer.seenTokens.every((token) => token === gitHubEnterprise.issuedTokens[0]), 'the editor\'s MCP client reached the server with the provider\'s token only');

    // The server now refuses it: MCP Keyring asks the provider again (silently first; it has no other token, so the
    // editor reconnects and the sign-in asks the provider for a new session, with no offer this time).
    gitHubEnterprise.revokeAll();
    const seenBefore = mcpServer.seenTokens.length;
    const restart = startServer(editor, label, 'mcp-server-restarted-with-new-token', 'Restart Server');
    const again = await approveProviderSignIn(editor, 'again');
    await completeAuthorizationInPage(again.page, { authorizationServerOrigin: gitHubEnterprise.origin });
    await editor.page.bringToFront();
    await restart;
    // The panel may still show the first start's "Discovered … tools": wait for the server itself to see the new token.
    for (let waited = 0; mcpServer.seenTokens.length === seenBefore && waited < 60_000; waited += 250) await editor.page.waitForTimeout(250);
    check(issued() === 2, `the provider was asked for a new token (issued ${issued()})`);
    const accepted = mcpServer.seenTokens.slice(seenBefore);
    check(accepted.length > 0 && accepted.every((token) => token === gitHubEnterprise.issuedTokens[1]), 'after the refusal the server accepted the new token only');

    // The person signs out of the account in the editor: MCP Keyring stops using its token and asks nobody.
    await signOutInAccountsMenu(editor, `${gitHubEnterprise.login} (${new URL(gitHubEnterprise.origin).host})`);
    await editor.waitForServerState(label, /^Needs sign-in$/);
    check(await editor.page.locator('.monaco-dialog-box').count() === 0, 'nobody was asked after the sign-out in the editor');
    check(issued() === 2, `the provider was not asked for another token (issued ${issued()})`);
    await editor.shot('editor-account-signed-out-in-editor');

    await editor.contextAction(label, 'Sign Out…');
    const signOut = await dialogOffering(editor, 'Sign Out');
    check((await signOut.innerText()).includes('You stay signed in to it in the editor'), 'the sign-out dialog says the editor account stays signed in');
    await editor.shot('sign-out-keeps-editor-account');
    await signOut.getByRole('button', { name: 'Sign Out' }).click();
    await editor.waitForServerState(label, /^Not signed in$/);
    check(!gitHubEnterprise.requests.some((request) => request.startsWith('DELETE ')), 'nothing was revoked at GitHub Enterprise Server');
    return editor.screenshots;
  });
}

/** Signs out of an account from the editor's Accounts menu (`entry`: its label and, in brackets, the provider's), and confirms. */
async function signOutInAccountsMenu(editor: JourneyEditor, entry: string): Promise<void> {
  await editor.page.locator('.activitybar .action-item .action-label[aria-label^="Accounts"]').click();
  const account = editor.page.getByRole('menuitem', { name: entry, exact: true });
  await account.waitFor({ timeout: 10_000 });
  await account.hover();
  await editor.clickMenuItem(editor.page.getByRole('menuitem', { name: 'Sign Out', exact: true }));
  const confirm = await dialogOffering(editor, 'Sign Out');
  check((await confirm.innerText()).includes('MCP Keyring'), 'the editor says MCP Keyring used the account');
  await confirm.getByRole('button', { name: 'Sign Out' }).click();
}

/** The modal dialog that offers `button`, once it shows. */
async function dialogOffering(editor: JourneyEditor, button: string) {
  const dialog = editor.page.locator('.monaco-dialog-box', { has: editor.page.getByRole('button', { name: button }) }).last();
  await dialog.waitFor({ timeout: 60_000 });
  return dialog;
}

/** The editor's consent to MCP Keyring signing in with the provider, then the provider's device code, which opens its page. */
async function approveProviderSignIn(editor: JourneyEditor, when: string) {
  const consent = await dialogOffering(editor, 'Allow');
  await editor.shot(`editor-asks-to-allow-${when}`);
  await consent.getByRole('button', { name: 'Allow' }).click();
  const code = await dialogOffering(editor, 'Copy & Continue to Browser');
  check(/Your Code/i.test(await code.innerText()), 'the provider shows a device code');
  await editor.shot(`provider-device-code-${when}`);
  return authorizationTab(editor, () => code.getByRole('button', { name: 'Copy & Continue to Browser' }).click());
}
