// The bench's load extension: runs the editor soak's load (editorSoakLoad.ts) in a workbench that is not in extension
// test mode, so the editor shows the dialogs of its own MCP sign-in and the runner answers them as a person would
// (sections/editorSoakBuiltin.ts). Loaded as a second extension under development; started once the editor is up.
// It hands its figures (no token in them) back in a file the bench named, since no test suite reports here.
import { writeFile } from 'node:fs/promises';
import { benchLine } from '../lib/editorBenchLine';
import { readEditorTestConfig } from '../../test/editor/suite/editorTestConfig';
import { runEditorSoakLoad } from './editorSoakLoad';
import { EDITOR_SOAK_RESULT_FILE_KEY } from './editorSoakParameters';

export function activate(): void {
  // Not awaited: the load outlives activation by minutes.
  void report();
}

async function report(): Promise<void> {
  const file = String(readEditorTestConfig()[EDITOR_SOAK_RESULT_FILE_KEY]);
  const line = await runEditorSoakLoad().then(benchLine, (error: unknown) => `ERROR ${error instanceof Error ? error.message : String(error)}`);
  await writeFile(file, `${line}\n`);
}
