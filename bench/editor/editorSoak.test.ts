// Runs inside the real editor's extension host against the editor suite's fixtures (see sections/editorSoak): signs
// in, then calls the fixture server's `echo` tool through the editor's own MCP client at a steady rate while tokens
// expire every few seconds. Prints one `BENCH {json}` line for the bench to pick up; no token is in it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { benchLine } from '../lib/editorBenchLine';
import { callOnTimetable } from '../lib/timetable';
import { mochaLinePrefix, readEditorTestConfig } from '../../test/editor/suite/editorTestConfig';
import { callEcho, extensionId, fixtureConfig, signInThroughBrowser, startFixtureEchoTool, type KeyringApi } from '../../test/editor/suite/helpers';
import { runner, type RunnerState } from '../../test/editor/suite/runner';
import { EDITOR_SOAK_CALLS_PER_SECOND, EDITOR_SOAK_DURATION_KEY } from './editorSoakParameters';
import { isGcForced, memoryAfterGc } from './extensionHostMemory';
/** Sign-in and the editor's MCP connection come before the calls. */
const SETUP_TIMEOUT_MS = 120_000;

interface CallRecord {
  readonly latencyMs: number;
  /** Undefined when the call returned its own text; otherwise the error's name and the start of its message. */
  readonly failure?: string;
}

async function timedCall(tool: vscode.LanguageModelToolInformation, text: string): Promise<CallRecord> {
  const started = performance.now();
  try {
    const answer = await callEcho(tool, text);
    return { latencyMs: performance.now() - started, failure: answer === text ? undefined : 'wrong answer' };
  } catch (error) {
    return { latencyMs: performance.now() - started, failure: error instanceof Error ? `${error.name}: ${error.message.slice(0, 100)}` : 'non-error thrown' };
  }
}

function countsByKind(records: readonly CallRecord[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const { failure } of records) if (failure) kinds[failure] = (kinds[failure] ?? 0) + 1;
  return kinds;
}

suite('bench: soak through the editor MCP client', () => {
  test('calls the echo tool steadily across short-lived tokens', async function () {
    const durationMs = Number(readEditorTestConfig()[EDITOR_SOAK_DURATION_KEY]);
    assert.ok(durationMs > 0, `the bench gave no ${EDITOR_SOAK_DURATION_KEY}`);
    this.timeout(SETUP_TIMEOUT_MS + durationMs * 2);
    const config = fixtureConfig();
    const api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    await signInThroughBrowser(api, config.serverUrl);
    const echo = await startFixtureEchoTool();

    let refreshEvents = 0;
    const counting = api.onDidChangeCredentials((change) => {
      if (change.serverUrl === config.serverUrl && change.kind === 'refreshed') refreshEvents += 1;
    });
    const before: RunnerState = await runner.state();
    const memoryAtStart = memoryAfterGc();
    const started = performance.now();
    const records: CallRecord[] = [];
    const { mostInFlight } = await callOnTimetable(durationMs, EDITOR_SOAK_CALLS_PER_SECOND, async (index) => {
      records[index] = await timedCall(echo, `call ${index}`);
    }).finally(() => {
      counting.dispose();
    });
    const elapsedMs = performance.now() - started;
    const memoryAtEnd = memoryAfterGc();
    const after = await runner.state();

    const figures = {
      durationMs: elapsedMs,
      calls: records.length,
      failedCalls: records.filter((record) => record.failure).length,
      failureKinds: countsByKind(records),
      mostInFlight,
      latenciesMs: records.map((record) => record.latencyMs),
      // Counted where they happen: at the MCP server and the authorization server, not by the client.
      unauthorizedAtServer: after.mcp.unauthorized - before.mcp.unauthorized,
      acceptedAtServer: after.mcp.acceptedRequests - before.mcp.acceptedRequests,
      tokenRequests: after.tokenRequests - before.tokenRequests,
      accessTokensIssued: after.issued.accessTokens - before.issued.accessTokens,
      distinctTokensAtServer: after.mcp.distinctTokens - before.mcp.distinctTokens,
      oldestTokenSentMs: after.mcp.oldestTokenSentMs,
      mcpSessions: after.mcp.sessions,
      signInPrompts: after.popups.length - before.popups.length,
      refreshEvents,
      isGcForced,
      memoryAtStart,
      memoryAtEnd,
    };
    console.log(`${mochaLinePrefix}${benchLine(figures)}`);
  });
});
