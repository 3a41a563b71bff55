// Device authorization (RFC 8628) in the real editor: a server entry asking for the device code strategy signs in
// without any redirect back to the editor. The editor opens the verification page with the code in it, the runner
// plays the person there (confirm the code, log in, consent), and the extension polls until approved. Runs after
// the main suite (files run in name order) and leaves the settings as it found them.
import assert from 'node:assert/strict';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { serverForSuite, fixtureConfig, eventually } from './helpers';
import { runner } from './runner';

suiteOutsideDesktop('MCP Keyring signing in by device code', runnerCannotPlayThePerson, () => {
  const config = fixtureConfig();
  const serverUrl = config.deviceServerUrl;
  const api = serverForSuite({ url: serverUrl, label: 'Device code MCP server', redirect: 'deviceCode' });

  test('signs in with a code approved on the verification page, with no redirect back to the editor', async () => {
    const before = await runner.state();
    await api().signIn(serverUrl);
    // The extension may hold its tokens before the tab has loaded the server's last page.
    const after = await eventually('the tab reaching the end of the device flow', 15_000, async () => {
      const state = await runner.state();
      const popup = state.popups[before.popups.length];
      return popup && (popup.finishedAt !== undefined || popup.error !== undefined) ? state : undefined;
    });

    const popups = after.popups.slice(before.popups.length);
    assert.equal(popups.length, 1, `the editor opened ${popups.length} tabs: ${JSON.stringify(popups)}`);
    assert.equal(popups[0]!.error, undefined);
    const issuerOrigin = new URL(config.issuer).origin;
    assert.equal(popups[0]!.openedAt, `${issuerOrigin}/device`, 'the editor opened the verification page');
    assert.ok(popups[0]!.finishedAt?.startsWith(`${issuerOrigin}/device/`), `the page ended at ${popups[0]!.finishedAt}, not on the authorization server's own page`);
    const registrations = after.registrations.slice(before.registrations.length);
    assert.deepEqual(registrations.map((registration) => [registration.status, registration.redirectUris]), [[201, []]], 'one registration, for the device grant, with no redirect URI');
    assert.equal(after.issued.accessTokens, before.issued.accessTokens + 1);

    assert.ok((await api().listServers()).find((server) => server.url === serverUrl)?.signedIn, 'the credential is not stored');
  });
});
