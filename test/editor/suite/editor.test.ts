// The editor the suite runs in is the real one we mean to support: VS Code 1.139 served by code-server (or desktop
// VS Code 1.139+ through the desktop launcher), with MCP Keyring loaded from the repository under development.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { isDesktopRun, testOutsideDesktop } from './desktop';
import { readEditorTestConfig } from './editorTestConfig';

const extensionId = 'mcp-keyring.mcp-keyring';

suite('The editor under test', () => {
  const config = readEditorTestConfig();

  testOutsideDesktop('is VS Code 1.139 running in a browser against a remote extension host', 'this is a desktop window', () => {
    assert.match(vscode.version, /^1\.139\./);
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    assert.equal(vscode.env.uriScheme, 'code-oss');
    assert.ok(vscode.env.remoteName, 'code-server runs extensions in a remote extension host');
  });

  // Defined only for desktop runs, so code-server's report does not carry a skipped test for it.
  if (isDesktopRun()) test('is desktop VS Code 1.139 or later running extensions locally', () => {
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(major === 1 && minor! >= 139, `VS Code ${vscode.version} is older than the 1.139 the manifest requires`);
    assert.equal(vscode.env.uiKind, vscode.UIKind.Desktop);
    assert.equal(vscode.env.remoteName, undefined, 'the desktop launcher opens a local window');
  });

  testOutsideDesktop('turns the URI handler callback into an http URL on the code-server origin', 'desktop hands vscode:// URIs to the OS', async () => {
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
    // The editor reports the kind of the host the extension runs in: remote in code-server, local on desktop.
    assert.equal(extension.extensionKind, isDesktopRun() ? vscode.ExtensionKind.UI : vscode.ExtensionKind.Workspace);
  });

  test('activates MCP Keyring', async function () {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `the editor has not loaded ${extensionId}`);
    const main = (extension.packageJSON as { main?: string }).main;
    assert.ok(main, 'package.json names no main module');
    // A missing build is a failure to say plainly, not a reason to skip: the suite would pass testing nothing.
    await vscode.workspace.fs.stat(vscode.Uri.joinPath(extension.extensionUri, main)).then(undefined, () => assert.fail(`no build output at ${main}: run npm run build first`));
    await extension.activate();
    assert.equal(extension.isActive, true);
  });
});
