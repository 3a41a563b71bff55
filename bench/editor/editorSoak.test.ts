// Runs inside the real editor's extension host against the editor suite's fixtures (see sections/editorSoak): gets an
// MCP server's `echo` tool to the editor's MCP client one of three ways (EditorSoakTarget), then calls it at a steady
// rate while tokens expire every few seconds. Prints one `BENCH {json}` line for the bench to pick up; no token is in it.
import * as assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import { benchLine } from '../lib/editorBenchLine';
import { callOnTimetable } from '../lib/timetable';
import { mochaLinePrefix, readEditorTestConfig } from '../../test/editor/suite/editorTestConfig';
import { callEcho, eventually, extensionId, fixtureConfig, signInThroughBrowser, startFixtureEchoTool, type KeyringApi } from '../../test/editor/suite/helpers';
import { runner, type RunnerState } from '../../test/editor/suite/runner';
import { DIRECT_SERVER_KEYS, EDITOR_SOAK_CALLS_PER_SECOND, EDITOR_SOAK_DURATION_KEY, EDITOR_SOAK_TARGET_KEY, MCP_JSON_SERVER_NAMES, type EditorSoakTarget } from './editorSoakParameters';
import { isGcForced, memoryAfterGc } from './extensionHostMemory';
import { profileExtensionHost } from './extensionHostProfile';
/** Sign-in and the editor's MCP connection come before the calls. */
const SETUP_TIMEOUT_MS = 120_000;
/** How long the editor gets to bring up a server configured in mcp.json (for its own sign-in: until it gives up). */
const MCP_JSON_START_TIMEOUT_MS = 60_000;

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

/**
 * Puts one server into the workspace's mcp.json, as a person would configure it, and has the editor's MCP client start
 * it. For the editor's own sign-in that means its dynamic authentication provider's dialogs, which the editor refuses
 * to show while extension tests run (DialogService.skipDialogs): what it did instead is the finding.
 */
async function startMcpJsonEchoTool(name: string, server: { url: string; headers?: Record<string, string> }): Promise<vscode.LanguageModelToolInformation> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the editor opened no workspace folder');
  const file = vscode.Uri.joinPath(folder.uri, '.vscode', 'mcp.json');
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(JSON.stringify({ servers: { [name]: { type: 'http', ...server } } }, null, 2)));
  // No server is configured in mcpKeyring.servers in these runs: the only echo tool is this server's.
  const find = () => vscode.lm.tools.find((tool) => tool.name.endsWith('echo'));
  return eventually(`the echo tool of ${name} did not appear in vscode.lm.tools`, MCP_JSON_START_TIMEOUT_MS, async () => {
    await vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true });
    return find();
  });
}

/** The echo tool the calls go to, by the target's way. */
async function echoToolFor(target: EditorSoakTarget, serverUrl: string): Promise<vscode.LanguageModelToolInformation> {
  const config = readEditorTestConfig();
  if (target === 'keyring') {
    const api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    await signInThroughBrowser(api, serverUrl);
    return startFixtureEchoTool();
  }
  if (target === 'direct') {
    const header = String(config[DIRECT_SERVER_KEYS.header]);
    return startMcpJsonEchoTool(MCP_JSON_SERVER_NAMES.direct, { url: String(config[DIRECT_SERVER_KEYS.url]), headers: { [header]: String(config[DIRECT_SERVER_KEYS.value]) } });
  }
  return startMcpJsonEchoTool(MCP_JSON_SERVER_NAMES.builtin, { url: serverUrl });
}

suite('bench: soak through the editor MCP client', () => {
  test('calls the echo tool steadily across short-lived tokens', async function () {
    const durationMs = Number(readEditorTestConfig()[EDITOR_SOAK_DURATION_KEY]);
    const target = readEditorTestConfig()[EDITOR_SOAK_TARGET_KEY] as EditorSoakTarget;
    assert.ok(durationMs > 0, `the bench gave no ${EDITOR_SOAK_DURATION_KEY}`);
    assert.ok(['keyring', 'direct', 'builtin'].includes(target), `the bench gave no ${EDITOR_SOAK_TARGET_KEY}`);
    this.timeout(SETUP_TIMEOUT_MS + durationMs * 2);
    const config = fixtureConfig();
    const api = await vscode.extensions.getExtension<KeyringApi>(extensionId)!.activate();
    const atStart: RunnerState = await runner.state();
    let echo: vscode.LanguageModelToolInformation | undefined;
    let unavailable: string | undefined;
    try {
      echo = await echoToolFor(target, config.serverUrl);
    } catch (error) {
      // The editor's own sign-in not finishing is a finding to report, with what it did meanwhile; anything else fails.
      if (target !== 'builtin') throw error;
      unavailable = (error as Error).message.split(' (last error')[0]!.slice(0, 300);
    }

    let refreshEvents = 0;
    const counting = api.onDidChangeCredentials((change) => {
      if (change.serverUrl === config.serverUrl && change.kind === 'refreshed') refreshEvents += 1;
    });
    const before: RunnerState = await runner.state();
    const memoryAtStart = memoryAfterGc();
    // Every column is profiled the same way, so the profilers' own cost is in each and cancels out in differences.
    const stopProfiling = await profileExtensionHost(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'dist'));
    const started = performance.now();
    const records: CallRecord[] = [];
    const tool = echo;
    const { mostInFlight } = await (tool ? callOnTimetable(durationMs, EDITOR_SOAK_CALLS_PER_SECOND, async (index) => {
      records[index] = await timedCall(tool, `call ${index}`);
    }) : Promise.resolve({ mostInFlight: 0 })).finally(() => {
      counting.dispose();
    });
    const elapsedMs = performance.now() - started;
    const extensionHostCost = await stopProfiling();
    const memoryAtEnd = memoryAfterGc();
    const after = await runner.state();

    const figures = {
      target,
      unavailable,
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
      // Before the calls: what it took to get the tools (sign-in, 401s).
      setup: {
        signInPrompts: before.popups.length - atStart.popups.length,
        unauthorizedAtServer: before.mcp.unauthorized - atStart.mcp.unauthorized,
        tokenRequests: before.tokenRequests - atStart.tokenRequests,
      },
      initializeRequests: after.mcp.initializeRequests - before.mcp.initializeRequests,
      refreshEvents,
      isGcForced,
      memoryAtStart,
      memoryAtEnd,
      extensionHostCost,
    };
    console.log(`${mochaLinePrefix}${benchLine(figures)}`);
  });
});
