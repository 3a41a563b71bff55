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
    // Activation is loading the bundle, then the extension host preparing the extension's context and calling its
    // activate(). The extension host loads the bundle through Node's module cache, so loading it here first splits
    // off the loading, and putting a timing wrapper around its exports there times the extension's own activate().
    const main = path.join(extension.extensionPath, (extension.packageJSON as { main: string }).main);
    const load = createRequire(main);
    const loadStarted = performance.now();
    const exports = load(main) as { activate(context: vscode.ExtensionContext): unknown; deactivate(): unknown };
    const codeLoadingMs = performance.now() - loadStarted;
    let ownActivateMs = Number.NaN;
    const cached = load.cache[load.resolve(main)];
    assert.ok(cached, 'the bundle is not in the module cache the extension host loads it from');
    cached.exports = {
      ...exports,
      activate: (context: vscode.ExtensionContext) => {
        const started = performance.now();
        try {
          return exports.activate(context);
        } finally {
          ownActivateMs = performance.now() - started;
        }
      },
    };
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
      ownActivateMs,
      // What VS Code reports as the extension's activation time (Developer: Show Running Extensions adds its
      // activationTimes' codeLoadingTime and activateCallTime): loading the bundle and the activate() call. activate()
      // returns synchronously, so there is no time until a returned promise resolved to add.
      activationMs: codeLoadingMs + ownActivateMs,
      isGcForced,
      before,
      after,
    };
    console.log(`${mochaLinePrefix}${benchLine(figures)}`);
  });
});
