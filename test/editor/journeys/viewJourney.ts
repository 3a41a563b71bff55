// The view that explains itself: sign in, expand the server to its account and the account to what is stored about
// it, rest the pointer on the account for its hover; then the server refuses a refresh, and the view's badge and the
// status bar item say so, whose click signs in again, this time as an account whose name is markup and a link: the
// hover shows it as the characters it is.
import { completeAuthorizationInPage } from '../authorizationPages';
import { clickStatusBarItem, expandAll, readHover, statusBarTexts, viewBadge, viewRows } from '../keyringView';
import { check, JourneyEditor } from './journeyEditor';
import { startJourneyServers } from './journeyServers';
import { authorizationTab, type JourneyContext } from './journeySteps';

const label = 'Demo MCP server';
/** An account name a hostile authorization server could send (it is the `sub` the login page is given). */
const hostileLogin = '[alice](https://evil.example/x) **admin** <img src=x>';

export async function viewJourney({ vsix }: JourneyContext): Promise<string[]> {
  await using servers = await startJourneyServers();
  const { mcpServer, authorizationServer } = servers;
  await using editor = await JourneyEditor.open({
    journey: 'view',
    vsix,
    userSettings: { 'mcpKeyring.allowInsecureLoopback': true, 'mcpKeyring.servers': [{ url: mcpServer.url, label }] },
  });
  return await editor.steps(async () => {
    const authorizationServerOrigin = new URL(authorizationServer.issuer).origin;
    await editor.openKeyringView();
    await editor.widenSideBar();
    const first = await authorizationTab(editor, () => editor.runCommand('MCP Keyring: Sign In…'));
    await completeAuthorizationInPage(first.page, { login: servers.login, authorizationServerOrigin });
    await editor.page.bringToFront();
    await editor.waitForServerState(label, /^Signed in as alice · expires in \d+ min$/);

    await expandAll(editor.page);
    const rows = await viewRows(editor.page);
    const facts = new Map(rows.filter((row) => row.level === 3).map((row) => [row.label, row.description]));
    check(facts.get('Authorization server') === authorizationServer.issuer, `the view names the authorization server (${JSON.stringify([...facts])})`);
    check(facts.get('Token') === 'Bearer' && /^registered · /.test(facts.get('Client') ?? ''), 'the view names the token kind and the client');
    await editor.shot('view-expanded');

    const hover = await readHover(editor.page, 'alice');
    check(hover.text.includes(`Authorization server: ${authorizationServer.issuer}`) && hover.text.includes('Next refresh: in '), `the account's hover says what the rows say: ${hover.text}`);
    check(hover.markupElements === 0, `the hover draws no markup (${hover.markupElements} elements)`);
    await editor.shot('account-hover');
    await editor.page.mouse.move(700, 600);

    authorizationServer.failNext('token', 1, 400, 'invalid_grant');
    await editor.runCommand('MCP Keyring: Refresh Now');
    await editor.waitForServerState(label, /^Needs sign-in$/);
    const badge = await waitFor('the view\'s badge', async () => ((await viewBadge(editor.page)) === '1' ? true : undefined));
    const item = `Sign in to ${label}`;
    check(badge && (await statusBarTexts(editor.page)).some((text) => text.includes(item)), `the status bar says "${item}"`);
    await editor.shot('badge-and-status-bar');

    // Signed out at the authorization server too, so that its login page asks who is signing in.
    await editor.browser.context.clearCookies();
    const second = await authorizationTab(editor, () => clickStatusBarItem(editor.page, item));
    await completeAuthorizationInPage(second.page, { login: hostileLogin, authorizationServerOrigin });
    await editor.page.bringToFront();
    await editor.waitForServerState(label, /^Signed in as .* · expires in \d+ min$/);
    const toast = await editor.toast(/^Signed in to Demo MCP server as \[alice\]/);
    check((await toast.locator('.notification-list-item-message a').count()) === 0, 'the notification shows the account name without a link');
    await waitFor('the badge going out', async () => ((await viewBadge(editor.page)) === undefined ? true : undefined));
    check(!(await statusBarTexts(editor.page)).some((text) => text.includes(item)), 'the status bar item is gone');
    await expandAll(editor.page);
    const hostile = await readHover(editor.page, hostileLogin);
    check(hostile.text.includes(`Account: ${hostileLogin}`), `the hover shows the account name as it is: ${hostile.text}`);
    check(hostile.markupElements === 0, `the hostile name drew no link, emphasis or image (${hostile.markupElements} elements)`);
    await editor.shot('hostile-account-hover');
    return editor.screenshots;
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}
