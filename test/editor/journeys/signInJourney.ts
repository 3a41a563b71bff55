// The main journey: add a server from the palette, sign in on the authorization server's real pages in a new tab,
// watch the tree count down, start the server's tools in the editor's MCP client, sign out from the tree.
import { completeAuthorizationInPage } from '../authorizationPages';
import { check, JourneyEditor } from './journeyEditor';
import { startJourneyServers } from './journeyServers';
import { authorizationTab, serverLabel, type JourneyContext } from './journeySteps';

export async function signInJourney({ vsix }: JourneyContext): Promise<string[]> {
  await using servers = await startJourneyServers();
  await using editor = await JourneyEditor.open({ journey: 'sign-in', vsix, userSettings: { 'mcpKeyring.allowInsecureLoopback': true } });
  return await editor.steps(async () => {
  const { mcpServer, authorizationServer } = servers;
  const label = serverLabel(mcpServer.url);
  await editor.shot('workbench');

  await editor.runCommand('MCP Keyring: Add Server…');
  await editor.quickInput('Add MCP Server');
  await editor.page.keyboard.type(mcpServer.url);
  await editor.shot('add-server-url');
  await editor.page.keyboard.press('Enter');

  const found = await editor.toast(/^Added /);
  const foundText = await found.locator('.notification-list-item-message').innerText();
  check(foundText.includes(authorizationServer.issuer), `the notification names the authorization server ${authorizationServer.issuer}: "${foundText}"`);
  await editor.shot('server-found');

  const tab = await authorizationTab(editor, () => found.getByRole('button', { name: 'Sign In' }).click());
  await completeAuthorizationInPage(tab.page, { login: servers.login, authorizationServerOrigin: new URL(authorizationServer.issuer).origin });
  check(tab.shotsTaken.includes('login') && tab.shotsTaken.includes('consent'), `the login and consent pages were shown (saw ${tab.shotsTaken.join(', ') || 'neither'})`);
  await tab.page.waitForLoadState('load').catch(() => undefined);
  await editor.shot('browser-back-at-editor', tab.page);

  await editor.page.bringToFront();
  await editor.toast(new RegExp(`^Signed in to .* as ${servers.login}\\.$`));
  await editor.openKeyringView();
  const signedIn = /^Signed in as alice · expires in \d+ min$/;
  const first = await editor.waitForServerState(label, signedIn);
  await editor.widenSideBar();
  await editor.shot('tree-signed-in');
  // The countdown is in whole minutes (a redraw closes hovers), so the next minute is at most a minute away.
  const later = await editor.waitForServerState(label, new RegExp(`^(?!${first}$)${signedIn.source.slice(1)}`), 75_000);
  await editor.shot('tree-signed-in-later');
  check(first !== later, `the expiry counts down live ("${first}" stayed "${later}")`);

  await startServerTools(editor, label);

  await editor.contextAction(label, 'Sign Out…');
  const dialog = await editor.dialog();
  check((await dialog.innerText()).includes(`Sign out of ${label}?`), 'the sign-out dialog names the server');
  await editor.shot('sign-out-confirm');
  await dialog.getByRole('button', { name: 'Sign Out' }).click();
  await editor.toast(`Signed out of ${label}.`);
  await editor.waitForServerState(label, /^Not signed in$/);
  await editor.shot('tree-signed-out');
  check(authorizationServer.requestCount('revocation') > 0, 'signing out revoked the tokens at the authorization server');
  return editor.screenshots;
  });
}

/**
 * What VS Code offers a person to start a server's tools: "MCP: List Servers" → the server → "Start Server". The
 * editor then shows the server's output, where its MCP client reports the tools it discovered, and lists the server
 * as running.
 */
async function startServerTools(editor: JourneyEditor, label: string): Promise<void> {
  const rows = editor.page.locator('.quick-input-widget .monaco-list-row');
  const server = rows.filter({ hasText: label }).first();
  await editor.runCommand('MCP: List Servers');
  await server.waitFor({ timeout: 30_000 });
  await editor.shot('mcp-server-list');
  await server.click();
  const start = rows.filter({ hasText: /^Start Server/ }).first();
  await start.waitFor({ timeout: 10_000 });
  await editor.shot('mcp-server-actions');
  await start.click();
  const discovered = editor.page.locator('.part.panel .view-lines', { hasText: /Discovered\s+[1-9]\d*\s+tools/ });
  await discovered.waitFor({ timeout: 30_000 });
  await editor.shot('mcp-server-tools');
  await editor.runCommand('MCP: List Servers');
  await server.waitFor({ timeout: 30_000 });
  const state = await server.innerText();
  check(/Running/.test(state), `the MCP server list shows ${label} running ("${state.replace(/\s+/g, ' ')}")`);
  await editor.shot('mcp-server-running');
  await editor.page.keyboard.press('Escape');
}
