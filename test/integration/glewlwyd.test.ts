// Signing in to glewlwyd, an independent OpenID provider in C (Debian's package), through its real login page in
// Chromium, with an MCP server built on the official SDK in front of it whose resource metadata names glewlwyd's
// issuer. The checklist of issue #17 through the real command line.
import assert from 'node:assert/strict';
import { createChromiumTestBrowser, type ChromiumTestBrowser } from '../fixtures/chromiumTestBrowser';
import { startGlewlwydServer, type GlewlwydServer } from '../fixtures/glewlwydServer';
import { startSdkProtectedMcpServer, type SdkProtectedMcpServer } from '../fixtures/sdkProtectedMcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';

const ACCESS_TOKEN_SECONDS = 10;

describe('glewlwyd', function () {
  this.timeout(60_000);
  let glewlwyd: GlewlwydServer;
  let mcp: SdkProtectedMcpServer;
  let browser: ChromiumTestBrowser;
  let cli: CliHarness;

  before(async function () {
    glewlwyd = await startGlewlwydServer({ accessTokenSeconds: ACCESS_TOKEN_SECONDS });
    mcp = await startSdkProtectedMcpServer(glewlwyd);
  });
  after(async function () {
    await mcp?.close();
    await glewlwyd?.close();
  });
  beforeEach(async function () {
    browser = createChromiumTestBrowser({ login: glewlwyd.user.login, password: glewlwyd.user.password });
    cli = await createCliHarness({}, {}, browser);
  });
  afterEach(async function () {
    await cli.dispose();
    await browser.close();
  });

  it('lists the tools from a cold store: discovery from the 401, registration answered with 200, sign-in on its login page', async function () {
    const result = await cli.run('tools', mcp.url, '--verbose', '--timeout', '60');
    console.log(result.stderr, browser.history, browser.lastFinalUrl);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^echo — /m);
  });
});
