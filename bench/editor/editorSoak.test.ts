// Runs the editor soak's load (editorSoakLoad.ts) as an in-editor test, for the targets that need no dialog: MCP
// Keyring and the token-free baseline. Prints one `BENCH {json}` line for the bench to pick up; no token is in it.
import * as assert from 'node:assert/strict';
import { benchLine } from '../lib/editorBenchLine';
import { mochaLinePrefix, readEditorTestConfig } from '../../test/editor/suite/editorTestConfig';
import { EDITOR_SOAK_DURATION_KEY } from './editorSoakParameters';
import { EDITOR_SOAK_SETUP_TIMEOUT_MS, runEditorSoakLoad } from './editorSoakLoad';

suite('bench: soak through the editor MCP client', () => {
  test('calls the echo tool steadily across short-lived tokens', async function () {
    const durationMs = Number(readEditorTestConfig()[EDITOR_SOAK_DURATION_KEY]);
    assert.ok(durationMs > 0, `the bench gave no ${EDITOR_SOAK_DURATION_KEY}`);
    this.timeout(EDITOR_SOAK_SETUP_TIMEOUT_MS + durationMs * 2);
    console.log(`${mochaLinePrefix}${benchLine(await runEditorSoakLoad())}`);
  });
});
