// What the editor soak's section (in Node) and its in-editor test (in the extension host) agree on; nothing here
// may import `vscode` or the runner, since both sides load it.

/** The key of the test config that says how long the calls go on. */
export const EDITOR_SOAK_DURATION_KEY = 'editorSoakDurationMs';
export const EDITOR_SOAK_CALLS_PER_SECOND = 20;

/**
 * Which way the calls reach an MCP server, one per editor run: `keyring`, the fixture server through MCP Keyring's
 * relay; `direct`, a server needing no token (a static header in mcp.json), the editor's MCP client alone; `builtin`,
 * the same OAuth fixture server in mcp.json, signed in to by the editor's own MCP authentication.
 */
export type EditorSoakTarget = 'keyring' | 'direct' | 'builtin';
export const EDITOR_SOAK_TARGET_KEY = 'editorSoakTarget';
/** For `direct`: the server, the header it wants and its value (a bench-only key, in no other fixture). */
export const DIRECT_SERVER_KEYS = { url: 'directServerUrl', header: 'directServerHeader', value: 'directServerKey' } as const;
/** The names the bench gives its servers in the workspace's mcp.json; the editor puts them into its tools' names. */
export const MCP_JSON_SERVER_NAMES = { direct: 'bench-direct', builtin: 'bench-builtin' } as const;
/** For `builtin`: the file the load extension writes its `BENCH {json}` line to (the workbench is not in test mode, so no suite reports). */
export const EDITOR_SOAK_RESULT_FILE_KEY = 'editorSoakResultFile';
