// The editor the suite runs in is the real one we mean to support: VS Code 1.139 served by code-server, with
// MCP Keyring loaded from the repository under development.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readEditorTestConfig } from './editorTestConfig';

const extensionId = 'mcp-keyring.mcp-keyring';

suite('The editor under test', () => {
  const config = readEditorTestConfig();

  test('is VS Code 1.139 running in a browser against a remote extension host', () => {
    assert.match(vscode.version, /^1\.139\./);
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    assert.equal(vscode.env.uriScheme, 'code-oss');
    assert.ok(vscode.env.remoteName, 'code-server runs extensions in a remote extension host');
  });

  test('turns the URI handler callback into an http URL on the code-server origin', async () => {
    const callback = vscode.Uri.parse(`${vscode.env.uriScheme}://${extensionId}/callback`);
    const external = new URL((await vscode.env.asExternalUri(callback)).toString(true));
    assert.equal(external.origin, config.codeServerOrigin);
    assert.match(external.pathname, /\/callback$/);
    assert.equal(external.searchParams.get('vscode-scheme'), vscode.env.uriScheme);
    assert.equal(external.searchParams.get('vscode-authority'), extensionId);
  });

  test('loads MCP Keyring from the repository under development', () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not among ${vscode.extensions.all.map((each) => each.id).join(', ')}`);
    assert.equal(extension.extensionKind, vscode.ExtensionKind.Workspace);
  });

  test('activates MCP Keyring', async function () {
    const extension = vscode.extensions.getExtension(extensionId);
    const main = (extension?.packageJSON as { main?: string } | undefined)?.main;
    if (!extension || !main) this.skip();
    try {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(extension.extensionUri, main));
    } catch {
      // The build has not produced the extension yet; say so instead of failing on a missing file.
      this.skip();
    }
    await extension.activate();
    assert.equal(extension.isActive, true);
  });
});
