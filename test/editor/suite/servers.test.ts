// Managing servers inside the real editor, after the sign-in suite: adding servers without OAuth (their keys typed
// where a person types them), importing from mcp.json, editing and removing entries in settings (whose credentials
// must go with them), the insecure-loopback setting taking effect at once, and an authorization code with awkward
// characters travelling browser → editor → URI handler → token endpoint unchanged. In order, like keyring.test.ts.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Commands } from '../../../src/vscode/ids';
import { runnerCannotPlayThePerson, suiteOutsideDesktop } from './desktop';
import { mochaLinePrefix } from './editorTestConfig';
import { accountLabels, assertNoFailures, currentCredential, eventually, extensionId, fixtureConfig, callEcho, nextEvent, signInThroughBrowser, startServerAndFind, type KeyringApi } from './helpers';
import { runner, type RunnerState, type StaticServerTraffic } from './runner';

interface SettingsEntry {
  readonly url: string;
  readonly label?: string;
  readonly clientId?: string;
  readonly staticCredential?: string;
  readonly apiKeyHeader?: string;
  readonly headers?: Record<string, string>;
}

function keyringSettings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('mcpKeyring');
}

function userServers(): SettingsEntry[] {
  return keyringSettings().inspect<SettingsEntry[]>('servers')?.globalValue ?? [];
}

async function setUserServers(entries: readonly SettingsEntry[]): Promise<void> {
  await keyringSettings().update('servers', entries, vscode.ConfigurationTarget.Global);
}

/** The editor's name for a definition: `<extension id>/<label>`, the label being host and path when none is set. */
function definitionIdFor(url: string): string {
  const parsed = new URL(url);
  return `${extensionId}/${parsed.host}${parsed.pathname}`;
}

/** Starts one of the keyring's servers in the editor's MCP client and finds the echo tool it brought. */
function startAndFindEcho(definitionId: string, timeoutMs = 45_000): Promise<vscode.LanguageModelToolInformation> {
  const before = new Set(vscode.lm.tools.map((tool) => tool.name));
  return startServerAndFind(definitionId, `no new echo tool after starting ${definitionId}`, () => vscode.lm.tools.find((tool) => !before.has(tool.name) && tool.name.endsWith('echo')), timeoutMs);
}

suiteOutsideDesktop('Managing servers in the editor', runnerCannotPlayThePerson, function () {
  const config = fixtureConfig();
  let api: KeyringApi;
  let fixtureEntry: SettingsEntry;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    fixtureEntry = userServers().find((entry) => entry.url === config.serverUrl)!;
    assert.ok(fixtureEntry, 'the fixture server is not in the user settings');
    // The sign-in suite ends leaving a sign-in tab alone; from here on the person completes them.
    await runner.setPopupMode('complete');
  });

  /** After the credential went: the server got a revocation request, and the editor's connection is refused from now on. */
  async function assertSignedOutAtServer(before: RunnerState, what: string): Promise<void> {
    // A server removed from the settings is no longer listed; the accounts still show a credential the keyring holds.
    await eventually(what, 15_000, async () => ((await currentCredential(api, config.serverUrl)) === undefined && (await accountLabels()).length === 0 ? true : undefined));
    const purged = await runner.state();
    assert.ok(purged.revocations > before.revocations, 'the authorization server got no revocation request');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal((await runner.state()).mcp.acceptedRequests, purged.mcp.acceptedRequests, 'the MCP server accepted requests after the purge');
  }

  suite('servers without OAuth', () => {
    const kinds: { name: string; url: () => string; pick: string; extraAnswers: string[]; key: 'bearer' | 'apiKey'; stored: Partial<SettingsEntry> }[] = [
      { name: 'a static bearer token', url: () => config.bearerServerUrl, pick: 'Bearer token', extraAnswers: [], key: 'bearer', stored: { staticCredential: 'bearer' } },
      // The header name box offers X-API-Key; the person accepts it.
      { name: 'an API key header', url: () => config.apiKeyServerUrl, pick: 'API key header', extraAnswers: ['Header name'], key: 'apiKey', stored: { staticCredential: 'apiKeyHeader', apiKeyHeader: 'X-API-Key' } },
    ];
    for (const kind of kinds) {
      test(`Add Server keeps ${kind.name} typed once, and the editor's MCP client reaches the server with it`, async function () {
        this.timeout(90_000);
        const url = kind.url();
        const adding = vscode.commands.executeCommand(Commands.addServer);
        await runner.answerQuickInput('Add MCP Server', { text: url });
        await runner.answerQuickInput('This server did not ask for OAuth', { text: kind.pick });
        for (const title of kind.extraAnswers) await runner.answerQuickInput(title);
        await runner.answerQuickInput('Credential', { secretOf: kind.key });
        await adding;

        const entry = userServers().find((each) => each.url === url);
        assert.deepEqual(entry, { url, ...kind.stored }, 'the settings entry is not what was added (and must hold no key)');
        const before = (await runner.state())[kind.key];
        const echo = await startAndFindEcho(definitionIdFor(url));
        assert.equal(await callEcho(echo, `through ${kind.name}`), `through ${kind.name}`);
        const after: StaticServerTraffic = (await runner.state())[kind.key];
        assert.ok(after.accepted > before.accepted, 'the server accepted no request carrying the key');
        assert.equal(after.refused, before.refused, 'the server refused requests from the editor');
      });
    }

    test('removing such a server from settings forgets its key: added back by hand, it has none', async function () {
      this.timeout(60_000);
      const entry = userServers().find((each) => each.url === config.bearerServerUrl)!;
      // The purge runs on the settings change and announces itself once everything it kept is deleted.
      const purged = nextEvent(api.onDidChangeCredentials, 'the purge of the removed server', 15_000, (change) => change.kind === 'purged' && change.serverUrl === config.bearerServerUrl);
      await setUserServers(userServers().filter((each) => each.url !== config.bearerServerUrl));
      await purged;
      await setUserServers([...userServers(), entry]);
      const before = (await runner.state()).bearer;
      // Without a key, resolving the definition declines to start it: no tools, and the server sees no key. (With the
      // old key still stored, the server starts and the call goes through.)
      const started = await startAndFindEcho(definitionIdFor(config.bearerServerUrl), 10_000).then(
        (echo) => callEcho(echo, 'with a forgotten key?').then((answer) => `its echo tool appeared and answered ${JSON.stringify(answer)}`, () => 'its echo tool appeared'),
        (error: unknown) => (error instanceof Error && /no new echo tool/.test(error.message) ? undefined : `starting it failed otherwise (${String(error)})`),
      );
      assert.equal(started, undefined, 'the server was started although its key was forgotten');
      const after = (await runner.state()).bearer;
      assert.equal(after.accepted, before.accepted, 'the server accepted a request: the key outlived its settings entry');
      await setUserServers(userServers().filter((each) => each.url !== config.bearerServerUrl));
    });
  });

  suite('a server that accepts only DPoP', () => {
    test('Add Server takes its DPoP challenge for OAuth: no static credential is offered and the entry asks for none', async function () {
      this.timeout(60_000);
      const url = config.machineServerUrl;
      assert.ok(!userServers().some((entry) => entry.url === url), 'the DPoP-only server is configured before the test');
      const adding = vscode.commands.executeCommand(Commands.addServer);
      try {
        await runner.answerQuickInput('Add MCP Server', { text: url });
        // The entry is stored before the notification that offers to sign in. Taken for a server without OAuth, it
        // would wait for the static-credential question, which nobody answers here, and never be stored.
        const entry = await eventually('Add Server did not store the DPoP-only server', 20_000, () => Promise.resolve(userServers().find((each) => each.url === url)));
        assert.deepEqual(entry, { url });
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        await vscode.commands.executeCommand('notifications.clearAll');
        await adding;
        await setUserServers(userServers().filter((each) => each.url !== url));
      }
    });
  });

  suite('import and edit', () => {
    test('Import from mcp.json adds the HTTP servers it finds, without their headers', async function () {
      this.timeout(60_000);
      const folder = vscode.workspace.workspaceFolders?.[0];
      assert.ok(folder, 'the editor has no workspace folder');
      const file = vscode.Uri.joinPath(folder.uri, '.vscode', 'mcp.json');
      const importedUrl = 'http://127.0.0.1:9/imported/mcp';
      const mcpJson = {
        servers: {
          'imported-server': { type: 'http', url: importedUrl, headers: { Authorization: 'Bearer from-mcp-json' } },
          'local-tool': { type: 'stdio', command: 'node', args: ['tool.js'] },
        },
      };
      await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(JSON.stringify(mcpJson)));
      try {
        const importing = vscode.commands.executeCommand(Commands.importMcpJson);
        await runner.answerQuickInput('Import servers from mcp.json');
        await importing;
      } finally {
        await vscode.workspace.fs.delete(file);
      }
      assert.deepEqual(userServers().find((entry) => entry.url === importedUrl), { url: importedUrl, label: 'imported-server' });
      assert.equal(userServers().filter((entry) => !entry.url.startsWith('http')).length, 0);
      await setUserServers(userServers().filter((entry) => entry.url !== importedUrl));
    });

    test('Edit opens the user settings at the servers', async () => {
      await vscode.commands.executeCommand(Commands.editServer);
      const document = await eventually('no settings editor opened', 10_000, () => Promise.resolve(vscode.window.activeTextEditor?.document));
      assert.match(document.uri.path, /\/settings\.json$/);
      assert.match(document.getText(), /"mcpKeyring\.servers"/);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });
  });

  suite('credentials follow the settings', () => {
    test('removing a signed-in server from settings signs out, revoking at the server', async function () {
      this.timeout(60_000);
      await signInThroughBrowser(api, config.serverUrl);
      assert.ok(await currentCredential(api, config.serverUrl), 'not signed in after the sign-in');
      const before = await runner.state();
      await setUserServers(userServers().filter((entry) => entry.url !== config.serverUrl));
      await assertSignedOutAtServer(before, 'the credential outlived its settings entry');
      assert.deepEqual(await accountLabels(), []);
    });

    test('changing the client id of a signed-in server signs it out', async function () {
      this.timeout(60_000);
      await setUserServers([...userServers(), fixtureEntry]);
      await signInThroughBrowser(api, config.serverUrl);
      const before = await runner.state();
      await setUserServers(userServers().map((entry) => (entry.url === config.serverUrl ? { ...entry, clientId: 'another-client' } : entry)));
      await assertSignedOutAtServer(before, 'the credential outlived its client');
      await setUserServers(userServers().map((entry) => (entry.url === config.serverUrl ? fixtureEntry : entry)));
    });
  });

  suite('mcpKeyring.allowInsecureLoopback', () => {
    async function diagnosis(): Promise<string> {
      const diagnosing = vscode.commands.executeCommand(Commands.diagnose);
      await runner.answerQuickInput('Diagnose which server?', { text: 'Fixture MCP server' });
      await diagnosing;
      const document = await eventually('no diagnosis opened', 15_000, () => Promise.resolve(vscode.window.activeTextEditor?.document));
      const text = document.getText();
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      return text;
    }

    test('applies as soon as it changes: off refuses the plain-http authorization server, on allows it again', async function () {
      this.timeout(60_000);
      console.log(`${mochaLinePrefix}      allowInsecureLoopback before: ${JSON.stringify(keyringSettings().inspect('allowInsecureLoopback'))}`);
      try {
        await keyringSettings().update('allowInsecureLoopback', false, vscode.ConfigurationTarget.Global);
        assert.match(await diagnosis(), /result: failed \(insecure_url\)/);
      } finally {
        await keyringSettings().update('allowInsecureLoopback', true, vscode.ConfigurationTarget.Global);
      }
      assert.match(await diagnosis(), /result: ready to sign in/);
      console.log(`${mochaLinePrefix}      allowInsecureLoopback after: ${JSON.stringify(keyringSettings().inspect('allowInsecureLoopback'))}`);
    });
  });

  suite('the exported API', () => {
    test('signOut signs out without a prompt: revoked at the server, forgotten here, announced', async function () {
      this.timeout(60_000);
      await signInThroughBrowser(api, config.serverUrl);
      const before = await runner.state();
      const announced = nextEvent(api.onDidChangeCredentials, 'onDidChangeCredentials for the sign-out', 10_000, (change) => change.serverUrl === config.serverUrl && change.kind === 'signedOut');
      await api.signOut(config.serverUrl);
      await announced;
      await assertSignedOutAtServer(before, 'a token is left after signOut');
      assert.equal(before.popups.length, (await runner.state()).popups.length, 'signing out opened a tab');
    });

    test('signOut of a server not signed in does nothing, quietly', async () => {
      const before = await runner.state();
      await api.signOut(config.serverUrl);
      assert.equal((await runner.state()).revocations, before.revocations);
    });
  });

  // In this test mode the editor refuses modal dialogs (the command then fails as a person's "no" would): what can be
  // proven here is that nothing happens without the answer. What they do once answered is what purgeServer and the
  // engine do, proven above through settings and the API.
  suite('commands that ask first', () => {
    test('Remove does not remove or sign out without an answer', async function () {
      this.timeout(60_000);
      await signInThroughBrowser(api, config.serverUrl);
      const credential = await currentCredential(api, config.serverUrl);
      const removing = vscode.commands.executeCommand(Commands.removeServer);
      await runner.answerQuickInput('Remove which server?', { text: 'Fixture MCP server' });
      await removing;
      assert.ok(userServers().some((entry) => entry.url === config.serverUrl), 'the server was removed');
      assert.equal(await currentCredential(api, config.serverUrl), credential, 'the credential changed');
    });

    test('Copy Access Token does not copy without an answer', async function () {
      this.timeout(30_000);
      const sentinel = 'nothing copied yet';
      await vscode.env.clipboard.writeText(sentinel);
      const copying = vscode.commands.executeCommand(Commands.copyAccessToken);
      await runner.answerQuickInput('Copy the token of which server?', { text: 'Fixture MCP server' });
      await copying;
      assert.equal(await vscode.env.clipboard.readText(), sentinel);
      await api.signOut(config.serverUrl);
    });
  });

  suite('the URI handler', () => {
    test('hands the token endpoint a code holding + % & = exactly as the browser brought it back', async function () {
      this.timeout(60_000);
      const code = 'a+b%2Fc d&e=f%';
      await runner.returnCode(code);
      try {
        await assert.rejects(api.signIn(config.serverUrl), /invalid_grant|rejected the grant/);
      } finally {
        await runner.setPopupMode('complete');
      }
      assertNoFailures(await runner.checkExchangedCode(code));
    });
  });
});
