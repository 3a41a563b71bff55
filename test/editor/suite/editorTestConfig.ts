// What the runner tells the in-editor suite (code-server's origin now; the test servers' URLs later). It travels
// as JSON in one environment variable, which code-server's extension host inherits from code-server.
export const editorTestConfigVariable = 'MCP_KEYRING_EDITOR_TEST_CONFIG';

/** Starts every line the suite's reporter prints, so the runner can show them apart from the editor's own log. */
export const mochaLinePrefix = '[suite] ';

export interface EditorTestConfig {
  /** `http://127.0.0.1:<port>`, where code-server serves the workbench; absent in desktop VS Code. */
  readonly codeServerOrigin?: string;
  /** Which editor runs the suite; code-server unless the desktop launcher says otherwise. */
  readonly editorHost?: 'code-server' | 'desktop';
  /** Only tests whose full title matches run (mocha's grep), when set. */
  readonly grep?: string;
  /** Anything else a later suite needs, e.g. the authorization server's and MCP servers' URLs. */
  readonly [name: string]: unknown;
}

export function readEditorTestConfig(): EditorTestConfig {
  const text = process.env[editorTestConfigVariable];
  if (!text) throw new Error(`${editorTestConfigVariable} is not set: run the suite through test/editor/runEditorTests.ts`);
  return JSON.parse(text) as EditorTestConfig;
}
