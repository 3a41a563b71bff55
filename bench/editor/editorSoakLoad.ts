// The editor soak's load, inside the real editor's extension host against the editor suite's fixtures (see
// sections/editorSoak): gets an MCP server's `echo` tool to the editor's MCP client one of three ways
// (EditorSoakTarget), then calls it at a steady rate while tokens expire every few seconds, and returns the figures
// (no token is in them). Run by the in-editor test (editorSoak.test.ts, extension test mode) for MCP Keyring and the
// baseline, and by the bench's load extension (editorSoakExtension.ts, a workbench whose dialogs show) for the
// editor's own sign-in.
import * as assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import { callOnTimetable } from '../lib/timetable';
import { readEditorTestConfig } from '../../test/editor/suite/editorTestConfig';
import { callEcho, eventually, extensionId, fixtureConfig, signInThroughBrowser, startFixtureEchoTool, type KeyringApi } from '../../test/editor/suite/helpers';
import { runner, type RunnerState } from '../../test/editor/suite/runner';
import { DIRECT_SERVER_KEYS, EDITOR_SOAK_CALLS_PER_SECOND, EDITOR_SOAK_DURATION_KEY, EDITOR_SOAK_TARGET_KEY, MCP_JSON_SERVER_NAMES, type EditorSoakTarget } from './editorSoakParameters';
import { isGcForced, memoryAfterGc } from './extensionHostMemory';
import { profileExtensionHost } from './extensionHostProfile';
import type { EditorSoakFigures } from '../sections/editorSoak';

/** Sign-in and the editor's MCP connection come before the calls. */
export const EDITOR_SOAK_SETUP_TIMEOUT_MS = 120_000;
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
 * to show while extension tests run (DialogService.skipDialogs): that target runs in a workbench not in test mode,
 * where the runner answers them.
 */
async function startMcpJsonEchoTool(name: string, server: { url: string; headers?: Record<string, string> }): Promise<vscode.LanguageModelToolInformation> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the editor opened no workspace folder');
  const file = vscode.Uri.joinPath(folder.uri, '.vscode', 'mcp.json');
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(JSON.stringify({ servers: { [name]: { type: 'http', ...server } } }, null, 2)));
  // No server is configured in mcpKeyring.servers in these runs: the only echo tool is this server's.
  const find = () => vscode.lm.tools.find((tool) => tool.name.endsWith('echo'));
  const what = `the echo tool of ${name} did not appear in vscode.lm.tools`;
  let timer: NodeJS.Timeout | undefined;
  // The start command can wait for a sign-in that never finishes; the deadline holds regardless.
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${MCP_JSON_START_TIMEOUT_MS} ms (the start never returned)`)), MCP_JSON_START_TIMEOUT_MS + 5_000)));
  return Promise.race([deadline, eventually(what, MCP_JSON_START_TIMEOUT_MS, async () => {
    await vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true });
    return find();
  })]).finally(() => clearTimeout(timer));
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

/** Gets the target's echo tool, calls it for the configured duration, and counts what happened where. */
export async function runEditorSoakLoad(): Promise<EditorSoakFigures> {
  const durationMs = Number(readEditorTestConfig()[EDITOR_SOAK_DURATION_KEY]);
  const target = readEditorTestConfig()[EDITOR_SOAK_TARGET_KEY] as EditorSoakTarget;
  assert.ok(durationMs > 0, `the bench gave no ${EDITOR_SOAK_DURATION_KEY}`);
  assert.ok(['keyring', 'direct', 'builtin'].includes(target), `the bench gave no ${EDITOR_SOAK_TARGET_KEY}`);
  const config = fixtureConfig();
  // Active in every column, so that the extension hosts' memory compares; it counts its refreshes.
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

  return {
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
}
