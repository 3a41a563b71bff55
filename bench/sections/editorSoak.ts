// Section 4 in the editor: the soak through VS Code's own MCP client, in real VS Code (code-server) against the editor
// suite's fixtures with short-lived tokens, the runner playing the person for the one sign-in at the start.
import path from 'node:path';
import { buildEditorSuite } from '../../test/editor/buildSuite';
import { runEditorSuiteWithFixtures } from '../../test/editor/runEditorTests';
import { EDITOR_SOAK_DURATION_KEY } from '../editor/editorSoakParameters';
import { editorBenchFigures } from '../lib/editorBenchLine';
import { SOAK_TOKEN_LIFETIME_SECONDS, type MemorySample } from './soak';

export const EDITOR_SOAK_DURATION_MS = 2 * 60_000;
/** Code-server and the workbench start, the sign-in and the MCP connection come before the calls. */
const EDITOR_SETUP_MS = 240_000;
const ROOT = path.resolve(import.meta.dirname, '../..');

/** What bench/editor/editorSoak.test.ts prints. */
export interface EditorSoakFigures {
  readonly durationMs: number;
  readonly calls: number;
  readonly failedCalls: number;
  readonly failureKinds: Record<string, number>;
  /** The most calls waiting for their answer at once. */
  readonly mostInFlight: number;
  readonly latenciesMs: readonly number[];
  /** 401s the MCP server answered during the calls: every one is a call that saw a 401 on the relay's side. */
  readonly unauthorizedAtServer: number;
  readonly acceptedAtServer: number;
  /** Requests to the token endpoint during the calls: all of them refreshes, since nobody signed in meanwhile. */
  readonly tokenRequests: number;
  readonly accessTokensIssued: number;
  readonly distinctTokensAtServer: number;
  /** Over the whole run, sign-in included. */
  readonly oldestTokenSentMs: number;
  readonly mcpSessions: number;
  readonly signInPrompts: number;
  /** `refreshed` events the extension's API announced during the calls. */
  readonly refreshEvents: number;
  readonly isGcForced: boolean;
  readonly memoryAtStart: MemorySample;
  readonly memoryAtEnd: MemorySample;
}

export interface EditorSoakResult extends EditorSoakFigures {
  readonly tokenLifetimeSeconds: number;
  /** The runner's checks after the suite that failed (leaked tokens, a 401 or 403 in the editor's MCP logs), each with its first complaint. */
  readonly failedRunnerChecks: readonly string[];
}

export async function runEditorSoak(scratchDirectory: string, durationMs = EDITOR_SOAK_DURATION_MS): Promise<EditorSoakResult> {
  const result = await runEditorSuiteWithFixtures({
    // JWT access tokens, as the engine soak's servers issue: the MCP server checks them without asking the authorization server.
    fixtures: { accessTokenTtlSeconds: SOAK_TOKEN_LIFETIME_SECONDS },
    extensionTestsPath: await buildEditorSuite({ testFiles: [path.join(ROOT, 'bench/editor/editorSoak.test.ts')], outDir: path.join(scratchDirectory, 'editor-soak-suite') }),
    testConfig: { [EDITOR_SOAK_DURATION_KEY]: durationMs },
    timeoutMs: EDITOR_SETUP_MS + durationMs * 2,
  });
  const figures = editorBenchFigures<EditorSoakFigures>(result.output);
  if (!figures) throw new Error(`the in-editor soak printed no figures (exit ${result.exitCode})`);
  // Title and first complaint: the runner's messages name files and counts, never a token.
  const failedRunnerChecks = result.runnerChecks.filter((check) => check.failures.length > 0).map((check) => `${check.title} (${check.failures[0]!.split('\n')[0]!.slice(0, 200)})`);
  return { ...figures, tokenLifetimeSeconds: SOAK_TOKEN_LIFETIME_SECONDS, failedRunnerChecks };
}
