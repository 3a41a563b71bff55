// Section 4 in the editor: the soak through VS Code's own MCP client, in real VS Code (code-server) against the editor
// suite's fixtures with short-lived tokens, the runner playing the person. One editor per way to the server, each
// fresh (so its extension host's memory is its own): through MCP Keyring's relay; straight to a server needing no
// token (the editor's MCP client alone, the baseline the relay's cost is measured against); and through the editor's
// own MCP sign-in (the anchor a person would otherwise use). The first two run as an in-editor test; the third needs
// the editor's dialogs, which extension test mode refuses, so it runs in a plain workbench (editorSoakBuiltin.ts).
import path from 'node:path';
import { buildEditorSuite } from '../../test/editor/buildSuite';
import { runEditorSuiteWithFixtures } from '../../test/editor/runEditorTests';
import { startStaticCredentialServer } from '../../test/editor/staticCredentialServer';
import { DIRECT_SERVER_KEYS, EDITOR_SOAK_DURATION_KEY, EDITOR_SOAK_TARGET_KEY, type EditorSoakTarget } from '../editor/editorSoakParameters';
import type { ExtensionHostCost } from '../editor/extensionHostProfile';
import type { Outcome } from '../lib/report';
import { editorBenchFigures } from '../lib/editorBenchLine';
import { SOAK_TOKEN_LIFETIME_SECONDS, type MemorySample } from './soak';
import { runLoadInPlainEditor } from './editorSoakBuiltin';

export const EDITOR_SOAK_DURATION_MS = 2 * 60_000;
/** Code-server and the workbench start, the sign-in and the MCP connection come before the calls. */
const EDITOR_SETUP_MS = 240_000;
const ROOT = path.resolve(import.meta.dirname, '../..');

/** What bench/editor/editorSoak.test.ts prints. */
export interface EditorSoakFigures {
  readonly target: EditorSoakTarget;
  /** Why the calls never started (the editor's own sign-in did not get its tool); undefined when they ran. */
  readonly unavailable?: string;
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
  /** Initialize requests (new MCP sessions) the fixture MCP server saw during the calls. */
  readonly initializeRequests: number;
  /** What getting the tool took before the calls began. */
  readonly setup: { readonly signInPrompts: number; readonly unauthorizedAtServer: number; readonly tokenRequests: number };
  /** `refreshed` events the extension's API announced during the calls. */
  readonly refreshEvents: number;
  readonly isGcForced: boolean;
  readonly memoryAtStart: MemorySample;
  readonly memoryAtEnd: MemorySample;
  /** CPU and allocations of the extension host over the calls, by whose code did the work (not for every column). */
  readonly extensionHostCost?: ExtensionHostCost;
}

export interface EditorSoakResult extends EditorSoakFigures {
  readonly tokenLifetimeSeconds: number;
  /** The runner's checks after the suite that failed (leaked tokens, a 401 or 403 in the editor's MCP logs), each with its first complaint. */
  readonly failedRunnerChecks: readonly string[];
  /** For `direct`: requests the token-free server accepted and refused over the whole run. */
  readonly directServer?: { readonly accepted: number; readonly refused: number };
  /** The warnings in the editor's own log of the MCP server, each distinct one with its count (they name hosts, never tokens). */
  readonly editorMcpWarnings: readonly { readonly text: string; readonly count: number }[];
  /** How often the editor's log says it started the server (each a new connection attempt). */
  readonly editorServerStarts: number;
  /** For `builtin`: the dialogs and quick inputs the runner answered in the workbench, by kind (whole run). */
  readonly dialogsAnswered?: Record<string, number>;
}

/** The three editors, in the order they ran. */
export interface EditorSoaks {
  readonly keyring: Outcome<EditorSoakResult>;
  readonly direct: Outcome<EditorSoakResult>;
  readonly builtin: Outcome<EditorSoakResult>;
}

/** The header the token-free server wants: a fixed value in mcp.json, nothing to sign in to. */
const DIRECT_HEADER = 'x-bench-key';

/** The three editors' common fixtures: JWT access tokens, as the engine soak's servers issue (the MCP server checks them without asking the authorization server). */
function fixtureOptions(target: EditorSoakTarget) {
  // The editor's provider registers with the resource's scopes, which oidc-provider refuses (see the report's prose).
  return { accessTokenTtlSeconds: SOAK_TOKEN_LIFETIME_SECONDS, registrationIgnoresScope: target === 'builtin' };
}

async function runOne(suitePath: string, target: EditorSoakTarget, durationMs: number, scratchDirectory: string): Promise<EditorSoakResult> {
  // Started for `direct` only; it holds no OAuth and its key exists for this run alone.
  const direct = target === 'direct' ? await startStaticCredentialServer(DIRECT_HEADER) : undefined;
  try {
    const testConfig = {
      [EDITOR_SOAK_DURATION_KEY]: durationMs,
      [EDITOR_SOAK_TARGET_KEY]: target,
      ...(direct ? { [DIRECT_SERVER_KEYS.url]: direct.url, [DIRECT_SERVER_KEYS.header]: DIRECT_HEADER, [DIRECT_SERVER_KEYS.value]: direct.secret } : {}),
    };
    const timeoutMs = EDITOR_SETUP_MS + durationMs * 2;
    const result = target === 'builtin'
      ? await runLoadInPlainEditor({ fixtures: fixtureOptions(target), testConfig, scratchDirectory, timeoutMs })
      : await runEditorSuiteWithFixtures({
        fixtures: fixtureOptions(target),
        extensionTestsPath: suitePath,
        // Only the keyring's run names the fixture server in mcpKeyring.servers; the baseline configures mcp.json instead.
        userSettings: target === 'keyring' ? undefined : {},
        testConfig,
        timeoutMs,
      });
    const figures = editorBenchFigures<EditorSoakFigures>(result.output);
    if (!figures) throw new Error(`the in-editor soak printed no figures: ${result.output.split('\n').filter((line) => /Error|ERROR|failing|\d\) /.test(line)).slice(0, 4).join(' | ').slice(0, 600)}`);
    // Title and first complaint: the runner's messages name files and counts, never a token.
    // Where no token was issued (the baseline), the leak scan's own sanity check (it had tokens to look for) cannot hold.
    const applicable = result.runnerChecks.filter((check) => !(target !== 'keyring' && check.title.startsWith('the leak scan had tokens')));
    const failedRunnerChecks = applicable.filter((check) => check.failures.length > 0).map((check) => `${check.title} (${check.failures[0]!.split('\n')[0]!.slice(0, 200)})`);
    const mcpLog = result.editorLogs.filter((file) => /^mcpServer\.mcp\.config\./.test(path.basename(file.relativePath))).map((file) => file.contents).join('\n');
    return {
      ...figures,
      tokenLifetimeSeconds: SOAK_TOKEN_LIFETIME_SECONDS,
      failedRunnerChecks,
      directServer: direct && { accepted: direct.accepted, refused: direct.refused },
      editorMcpWarnings: distinctWarnings(mcpLog),
      editorServerStarts: mcpLog.split('\n').filter((line) => / Starting server /.test(line)).length,
      dialogsAnswered: 'dialogsAnswered' in result ? result.dialogsAnswered : undefined,
    };
  } finally {
    await direct?.close();
  }
}

function distinctWarnings(log: string): { text: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const line of log.split('\n')) {
    const match = /\[(?:warning|error)\] (.*)$/.exec(line);
    // Ports and ids differ from line to line; the text without them is what repeats.
    if (match) counts.set(match[1]!.replace(/\d+/g, 'N').slice(0, 240), (counts.get(match[1]!.replace(/\d+/g, 'N').slice(0, 240)) ?? 0) + 1);
  }
  return [...counts].map(([text, count]) => ({ text, count })).sort((a, b) => b.count - a.count).slice(0, 5);
}

/** The three editors one after another; `measure` reports each one's progress and failure. */
export async function runEditorSoaks(scratchDirectory: string, durationMs: number, measure: <T>(name: string, work: () => Promise<T>) => Promise<Outcome<T>>, targets: readonly EditorSoakTarget[] = ['keyring', 'direct', 'builtin']): Promise<EditorSoaks> {
  const suitePath = await buildEditorSuite({ testFiles: [path.join(ROOT, 'bench/editor/editorSoak.test.ts')], outDir: path.join(scratchDirectory, 'editor-soak-suite') });
  const one = (target: EditorSoakTarget, name: string): Promise<Outcome<EditorSoakResult>> => (targets.includes(target)
    ? measure(`soak through the editor: ${name}`, () => runOne(suitePath, target, durationMs, scratchDirectory))
    : Promise.resolve({ error: 'not run (left out by --only)' }));
  const keyring = await one('keyring', 'MCP Keyring');
  const direct = await one('direct', 'no token, no relay');
  const builtin = await one('builtin', "the editor's own sign-in");
  return { keyring, direct, builtin };
}
