// What the editor soak's section (in Node) and its in-editor test (in the extension host) agree on; nothing here
// may import `vscode` or the runner, since both sides load it.

/** The key of the test config that says how long the calls go on. */
export const EDITOR_SOAK_DURATION_KEY = 'editorSoakDurationMs';
export const EDITOR_SOAK_CALLS_PER_SECOND = 20;
