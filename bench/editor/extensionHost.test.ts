// Runs inside the real editor's extension host (bundled with the editor suite's runner, see sections/extensionCost):
// times activation with 50 servers configured and reads the extension host's memory before and after. Prints one
// `BENCH {json}` line through the suite's reporter channel for the bench to pick up.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { isGcForced, memoryAfterGc } from './extensionHostMemory';
import { benchLine } from '../lib/editorBenchLine';
import { mochaLinePrefix } from '../../test/editor/suite/editorTestConfig';

const EXTENSION_ID = 'mcp-keyring.mcp-keyring';
/** Long enough for the tree and the MCP definitions of 50 servers to be built after activation. */
const SETTLE_MS = 3_000;

suite('bench: extension cost', () => {
  test('activation time and extension host memory with 50 servers', async function () {
    this.timeout(60_000);
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    const servers = vscode.workspace.getConfiguration('mcpKeyring').get<unknown[]>('servers') ?? [];
    const wasActiveBefore = extension.isActive;
    const before = memoryAfterGc();
    const started = performance.now();
    await extension.activate();
    const activationMs = performance.now() - started;
    await vscode.commands.executeCommand('workbench.view.extension.mcpKeyring');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = memoryAfterGc();
    const figures = {
      configuredServers: servers.length,
      wasActiveBefore,
      activationMs,
      isGcForced,
      before,
      after,
    };
    console.log(`${mochaLinePrefix}${benchLine(figures)}`);
  });
});
