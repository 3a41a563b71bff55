// Runs inside the real editor's extension host (bundled with the editor suite's runner, see sections/extensionCost):
// times activation with the configured servers (50, or 1 and 500 for the growth figures) and reads the extension
// host's memory before and after. Prints one `BENCH {json}` line through the suite's reporter channel for the bench
// to pick up.
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as vscode from 'vscode';
import { isGcForced, memoryAfterGc } from './extensionHostMemory';
import { benchLine } from '../lib/editorBenchLine';
import { mochaLinePrefix } from '../../test/editor/suite/editorTestConfig';

const EXTENSION_ID = 'mcp-keyring.mcp-keyring';
/** Long enough for the tree and the MCP definitions of the servers to be built after activation. */
const SETTLE_MS = 3_000;

suite('bench: extension cost', () => {
  test('activation time and extension host memory with the configured servers', async function () {
    this.timeout(60_000);
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    const servers = vscode.workspace.getConfiguration('mcpKeyring').get<unknown[]>('servers') ?? [];
    const wasActiveBefore = extension.isActive;
    const before = memoryAfterGc();
    // Activation is loading the bundle and running activate(): the extension host loads it through Node's module
    // cache, so loading it here first splits the two (activate() then finds it loaded).
    const main = path.join(extension.extensionPath, (extension.packageJSON as { main: string }).main);
    const loadStarted = performance.now();
    createRequire(main)(main);
    const codeLoadingMs = performance.now() - loadStarted;
    const started = performance.now();
    await extension.activate();
    const activateCallMs = performance.now() - started;
    await vscode.commands.executeCommand('workbench.view.extension.mcpKeyring');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = memoryAfterGc();
    const figures = {
      configuredServers: servers.length,
      wasActiveBefore,
      codeLoadingMs,
      activateCallMs,
      activationMs: codeLoadingMs + activateCallMs,
      isGcForced,
      before,
      after,
    };
    console.log(`${mochaLinePrefix}${benchLine(figures)}`);
  });
});
