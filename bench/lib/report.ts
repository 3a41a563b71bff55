// Turns one bench run into the committed report: Markdown for people (every figure next to its target), JSON for
// tools (summaries only; raw samples stay out of the repository).
import type { FuzzOutcome } from '../../test/fuzz/fuzzTargets';
import type { CrashSafetyResult } from '../sections/crashSafety';
import type { EditorSoakResult } from '../sections/editorSoak';
import type { ExtensionCostResult } from '../sections/extensionCost';
import type { FaultOutcome } from '../sections/faults';
import type { RefreshStormResult } from '../sections/refreshStorm';
import type { SignInCostResult, SignInKind } from '../sections/signInCost';
import { latencySummary, type MemorySample, type SoakResult, type SoakSide } from '../sections/soak';
import type { TokenLatencyResult } from '../sections/tokenLatency';
import { totalRequests, type RequestCounts } from './benchServers';
import { ratio } from './stats';

/** Each section's result, or why it has none. */
export type Outcome<T> = { readonly ok: T } | { readonly error: string };

export interface BenchRun {
  readonly startedAt: string;
  readonly wallMs: number;
  readonly machine: string;
  readonly parameters: Readonly<Record<string, number>>;
  readonly signInCost: Outcome<SignInCostResult>;
  readonly tokenLatency: Outcome<TokenLatencyResult>;
  readonly refreshStorm: Outcome<RefreshStormResult>;
  readonly soak: Outcome<SoakResult>;
  readonly editorSoak: Outcome<EditorSoakResult>;
  readonly faults: Outcome<FaultOutcome[]>;
  readonly crashSafety: Outcome<CrashSafetyResult>;
  readonly fuzz: Outcome<FuzzOutcome[]>;
  readonly extensionCost: Outcome<ExtensionCostResult>;
}

const ms = (value: number) => `${value < 10 ? value.toFixed(3) : value.toFixed(0)} ms`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const verdict = (isMet: boolean) => (isMet ? 'met' : '**missed**');

function section<T>(title: string, outcome: Outcome<T>, render: (result: T) => string[], headingLevel = 2): string[] {
  return [`${'#'.repeat(headingLevel)} ${title}`, '', ...('ok' in outcome ? render(outcome.ok) : [`Not measured: the section failed (${outcome.error}).`]), ''];
}

function requestList(counts: RequestCounts): string {
  const named = Object.entries(counts).filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`);
  return `${totalRequests(counts)} (${named.join(', ')})`;
}

function signInCost(result: SignInCostResult): string[] {
  const row = (label: string, engine: SignInKind, sdk: SignInKind, target: number) => {
    const engineRequests = result.medianRequests[engine];
    return `| ${label} | ${requestList(result.breakdown[engine])} | ${requestList(result.breakdown[sdk])} | ${target} | ${verdict(engineRequests <= target)} | ${ms(result.medianMs[engine])} | ${ms(result.medianMs[sdk])} | ${ratio(result.medianMs[engine], result.medianMs[sdk])} |`;
  };
  return [
    `Medians over ${result.runs} runs of each, interleaved, against the same servers. Requests are counted at the servers (the MCP fixture and oidc-provider); the browser's own page loads are not the client's and are left out. Every run of a kind made the same requests: ${Object.values(result.isStable).every(Boolean) ? 'yes' : 'no'}.`,
    '',
    '| sign-in | MCP Keyring requests | SDK requests | target | MCP Keyring vs target | MCP Keyring time | SDK time | time ratio (Keyring / SDK) |',
    '|---|---|---|---|---|---|---|---|',
    row('cold (nothing cached)', 'engineCold', 'sdkCold', 5),
    row('warm (discovery and registration cached)', 'engineWarm', 'sdkWarm', 1),
    '',
    'Both clients start each sign-in with the unauthenticated MCP request whose 401 says that (and where) to sign in; it is counted as `challenge`. The cold target is challenge, resource metadata, server metadata, registration, token; the warm target of "token only" does not count the challenge, which both clients still make.',
    'The SDK client registers with its `scope` field removed (one line in bench/lib/sdkClient.ts): oidc-provider rejects its registration otherwise (`invalid_client_metadata`), which would end its sign-in.',
  ];
}

function tokenLatency(result: TokenLatencyResult): string[] {
  const row = (label: string, summary: TokenLatencyResult['engine']) => `| ${label} | ${summary.calls} | ${ms(summary.p50Ms)} | ${ms(summary.p99Ms)} | ${ms(summary.maxMs)} | < 1 ms | ${verdict(summary.p99Ms < 1)} |`;
  return [
    '| path | calls | p50 | p99 | max | target p99 | verdict |',
    '|---|---|---|---|---|---|---|',
    row('engine (`getAccessToken`, in-memory store)', result.engine),
    row('extension provider (`getSessions`) over its SecretStorage store', result.provider),
    '',
    'The provider path runs the real `KeyringAuthenticationProvider` and `SecretStorageStore` in Node with a stub for the two `vscode` members they touch (EventEmitter, l10n) and the SecretStorage fake of the unit tests; the editor\'s own IPC is not included.',
  ];
}

function refreshStorm(result: RefreshStormResult): string[] {
  const one = result.inProcess;
  const two = result.twoProcesses;
  return [
    '| storm | refresh requests at the server (target 1) | failed callers (target 0) | distinct tokens handed out | until all had a token |',
    '|---|---|---|---|---|',
    `| ${one.callers} concurrent callers, one process, token just expired | ${one.refreshRequests} (${verdict(one.refreshRequests === 1)}) | ${one.failedCallers} (${verdict(one.failedCallers === 0)}) | ${one.distinctTokens} | ${ms(one.allServedMs)} |`,
    `| ${two.processes} CLI processes sharing one store | ${two.refreshRequests} (${verdict(two.refreshRequests === 1)}) | ${two.failedProcesses} (${verdict(two.failedProcesses === 0)}) | ${two.sameToken ? 1 : 2} | ${ms(two.allServedMs)} |`,
    '',
    `\`invalid_grant\` from rotation in the two-process storm: ${two.invalidGrantSeen ? '**seen**' : 'none'} (target none).`,
  ];
}

/** MCP Keyring refreshes at half the lifetime for tokens this short (the engine and the editor's scheduler alike). */
function keyringRefreshesExpected(durationMs: number, lifetimeSeconds: number): number {
  return Math.floor(durationMs / 1000 / (lifetimeSeconds / 2));
}

function expectedRefreshes(side: SoakSide, lifetimeSeconds: number): number {
  // The SDK refreshes after a 401, once per lifetime.
  return side.side === 'engine' ? keyringRefreshesExpected(side.durationMs, lifetimeSeconds) : Math.floor(side.durationMs / 1000 / lifetimeSeconds);
}

function memoryGrowth(start: MemorySample, end: MemorySample, key: keyof MemorySample): string {
  return `${mib(start[key])} → ${mib(end[key])} (${end[key] >= start[key] ? '+' : ''}${mib(end[key] - start[key])})`;
}

function latencyText(soakRun: Pick<SoakSide, 'latenciesMs'>): string {
  const summary = latencySummary(soakRun);
  return `${ms(summary.p50Ms)} / ${ms(summary.p99Ms)} / ${ms(summary.maxMs)}`;
}

function soak(result: SoakResult, lifetimeSeconds: number): string[] {
  const sides = [result.engine, result.sdk];
  const row = (label: string, value: (side: SoakSide) => string) => `| ${label} | ${sides.map(value).join(' | ')} |`;
  const growth = (side: SoakSide, key: keyof MemorySample) => memoryGrowth(side.memoryAtStart, side.memoryAtEnd, key);
  return [
    `Tokens live ${lifetimeSeconds} s, refresh-token rotation on, ${Math.round(result.engine.calls / (result.engine.durationMs / 1000))} tool calls per second (\`echo\` through the SDK's MCP \`Client\`), both sides at the same time, each in its own process with its own identical servers (so memory and counts are its own). Memory includes that process's fixture servers; heap after a forced GC.`,
    '',
    '| | MCP Keyring | SDK client | target |',
    '|---|---|---|---|',
    row('duration', (side) => `${(side.durationMs / 60_000).toFixed(1)} min`) + ' 10 min |',
    row('tool calls', (side) => String(side.calls)) + ' |',
    row('calls that saw a 401 (counted at the MCP server)', (side) => String(side.callsThatSaw401)) + ' 0 |',
    row('failed calls', (side) => `${side.failedCalls}${side.failedCalls > 0 ? ` (${Object.entries(side.failureKinds).map(([kind, count]) => `${kind} ${count}`).join(', ')})` : ''}`) + ' 0 |',
    row('refreshes at the server / expected', (side) => `${side.refreshes} / ${expectedRefreshes(side, lifetimeSeconds)}`) + ' |',
    row('sign-in prompts', (side) => String(side.signInPrompts)) + ' 0 |',
    row('oldest token sent', (side) => `${(Math.max(...side.tokenAges.map(([, age]) => age)) / 1000).toFixed(1)} s`) + ` < ${lifetimeSeconds} s |`,
    row('call latency p50 / p99 / max', latencyText) + ' |',
    row('RSS start → end', (side) => growth(side, 'rssBytes')) + ' |',
    row('heap used start → end', (side) => growth(side, 'heapUsedBytes')) + ' |',
    '',
    `Verdict for MCP Keyring: 401s ${verdict(result.engine.callsThatSaw401 === 0)}, failed calls ${verdict(result.engine.failedCalls === 0)}.`,
    'Expected refreshes: MCP Keyring refreshes when half of a short lifetime is left (duration ÷ 2.5 s); the SDK refreshes only after a 401 (duration ÷ 5 s). Token age is measured from the token\'s `iat`, which has whole-second resolution, so ages read up to 1 s high.',
  ];
}

function editorSoak(result: EditorSoakResult): string[] {
  const expected = keyringRefreshesExpected(result.durationMs, result.tokenLifetimeSeconds);
  const failures = Object.entries(result.failureKinds).map(([kind, count]) => `${kind} ×${count}`).join('; ');
  const memoryNote = result.isGcForced ? 'each sample after a full collection, asked of V8 by the bench test (the extension host runs without --expose-gc)' : 'no forced GC, so heap figures include garbage not yet collected';
  return [
    `The same load through VS Code's own MCP client in real VS Code (code-server 4.139.1): the bench's in-editor test signs in once (the runner plays the person), then calls the fixture server's \`echo\` tool with \`vscode.lm.invokeTool\` ${Math.round(result.calls / (result.durationMs / 1000))} times a second on a fixed timetable (a slow call overlaps the next ones; at most ${result.mostInFlight} were waiting at once). Each call goes from the editor's MCP connection through the extension's authorizing relay to the MCP server. Tokens live ${result.tokenLifetimeSeconds} s (JWT), refresh-token rotation on (the editor fixtures' oidc-provider rotates on every refresh). Counts are taken at the servers (the runner's view of the fixtures) over the calls' window. In \`npm run bench\` this runs beside the engine soak, below its priority.`,
    '',
    '| | through the editor\'s MCP client | target |',
    '|---|---|---|',
    `| duration | ${(result.durationMs / 60_000).toFixed(1)} min | 2 min |`,
    `| tool calls (answered by the MCP server) | ${result.calls} (${result.acceptedAtServer}) | |`,
    `| calls that saw a 401 (401s answered by the MCP server) | ${result.unauthorizedAtServer} | 0 (${verdict(result.unauthorizedAtServer === 0)}) |`,
    `| failed calls | ${result.failedCalls}${failures ? ` (${failures})` : ''} | 0 (${verdict(result.failedCalls === 0)}) |`,
    `| refreshes at the server / expected | ${result.tokenRequests} / ${expected} | |`,
    `| new access tokens the MCP server saw | ${result.distinctTokensAtServer} | |`,
    `| sign-in prompts (browser tabs opened) | ${result.signInPrompts} | 0 |`,
    `| MCP sessions | ${result.mcpSessions} | 1 |`,
    `| oldest token sent (whole run, sign-in included) | ${(result.oldestTokenSentMs / 1000).toFixed(1)} s | < ${result.tokenLifetimeSeconds} s |`,
    `| call latency p50 / p99 / max | ${latencyText(result)} | |`,
    `| extension host RSS start → end | ${memoryGrowth(result.memoryAtStart, result.memoryAtEnd, 'rssBytes')} | |`,
    `| extension host heap used start → end | ${memoryGrowth(result.memoryAtStart, result.memoryAtEnd, 'heapUsedBytes')} | |`,
    `| the runner's checks afterwards: no token in the profile, logs or browser storage; no 401 or 403 in the editor's MCP logs | ${result.failedRunnerChecks.length === 0 ? 'passed' : `**failed**: ${result.failedRunnerChecks.join('; ')}`} | passed |`,
    '',
    `Verdict: 401s ${verdict(result.unauthorizedAtServer === 0)}, failed calls ${verdict(result.failedCalls === 0)}.`,
    `Expected refreshes: the extension's background scheduler (src/core/refreshScheduler.ts with src/core/refreshPolicy.ts) refreshes when half of a short lifetime is left — the 10 % / 60 s lead and the \`refreshBeforeExpirySeconds\` setting are both capped at half the lifetime, and its jitter may not bring a refresh within 5 s of expiry, so for ${result.tokenLifetimeSeconds} s tokens there is none. A new token's clock starts when the refresh returns, so the period is ${result.tokenLifetimeSeconds / 2} s plus the refresh's round trip and duration ÷ ${result.tokenLifetimeSeconds / 2} s is an upper bound. Token age at the server is counted from the token endpoint's answer. Memory: the extension host also runs VS Code's built-in extensions; ${memoryNote}.`,
  ];
}

function faults(outcomes: FaultOutcome[]): string[] {
  return [
    'Each fault hits the token endpoint when the credential becomes due for refresh (tokens live 6 s, rotation on); a caller makes an MCP request every 250 ms throughout, never interactively. Recovery: from the end of the fault to the first call that worked after the last failure.',
    '',
    '| fault | lasted | outcome | calls failed / made | slowest call | browser opened | sign-in requested | recovery |',
    '|---|---|---|---|---|---|---|---|',
    ...outcomes.map((outcome) => {
      const state = !outcome.credentialKept ? '**credential lost**' : outcome.markedNeedsSignIn ? 'tokens kept, marked needs sign-in' : 'tokens kept, not marked';
      const recovery = outcome.recoveryMs === undefined ? 'none (needs sign-in)' : outcome.recoveryMs === 0 ? 'no call failed' : ms(outcome.recoveryMs);
      return `| ${outcome.fault} | ${ms(outcome.faultMs)} | ${state}${outcome.errorCodes.length ? ` (${outcome.errorCodes.join(', ')})` : ''} | ${outcome.failedCalls} / ${outcome.calls} | ${ms(outcome.slowestCallMs)} | ${outcome.browserOpened} | ${outcome.signInRequested} | ${recovery} |`;
    }),
    '',
    'With rotation on, a refresh whose answer is lost on the way (reset mid-response, truncated JSON) has already consumed the old refresh token at oidc-provider, which then revokes the grant when it is presented again: the credential is marked *needs sign-in*, as for `invalid_grant`. No client can avoid that without a rotation grace period at the server; the record is kept and nobody is prompted from the background.',
  ];
}

function crashSafety(result: CrashSafetyResult): string[] {
  const windows = Object.entries(result.killWindowMs).map(([operation, [low, high]]) => `${operation} ${ms(low)}–${ms(high)}`).join(', ');
  const points = Object.entries(result.byOperation).map(([operation, counts]) => `${operation}: ${Object.entries(counts).map(([point, count]) => `${point} ${count}`).join(', ')}`).join('; ');
  return [
    `\`dist/cli.mjs login\` and \`token\` (refresh due), alternately, each killed with SIGKILL after a random delay (uniform over ${windows}) counted from the moment the operation reaches the servers — a sign-in's first request to the MCP server, a refresh's token request — to just past the end of an unkilled run. After each kill a fresh engine reads the store and asks for a token; the MCP server must accept it.`,
    '',
    '| | count | target |',
    '|---|---|---|',
    `| iterations (killed before finishing) | ${result.iterations} (${result.killed}) | 200 |`,
    `| store readable afterwards | ${result.storeReadable} | ${result.iterations} (${verdict(result.storeReadable === result.iterations)}) |`,
    `| old or new credential works | ${result.credentialWorks} | all but kills inside the rotation window |`,
    `| lost in the rotation window (killed after the server rotated the refresh token, before the new one reached the disk) | ${result.lostToRotation} | — |`,
    `| neither works for any other reason | ${result.broken} | 0 (${verdict(result.broken === 0)}) |`,
    '',
    `Where the kills landed, as the authorization server saw them: ${points}.`,
    '',
    `Then ${result.interrupted.iterations} more, alternately, stopped with Ctrl-C (SIGINT) at the same random moments instead: the command line cancels what it waits for, but finishes and stores a refresh it already sent.`,
    '',
    '| stopped with SIGINT | count | target |',
    '|---|---|---|',
    `| iterations (stopped before finishing) | ${result.interrupted.iterations} (${result.interrupted.killed}) | |`,
    `| store readable afterwards | ${result.interrupted.storeReadable} | ${result.interrupted.iterations} (${verdict(result.interrupted.storeReadable === result.interrupted.iterations)}) |`,
    `| old or new credential works | ${result.interrupted.credentialWorks} | ${result.interrupted.iterations} (${verdict(result.interrupted.credentialWorks === result.interrupted.iterations)}) |`,
    `| lost to rotation | ${result.interrupted.lostToRotation} | 0 (${verdict(result.interrupted.lostToRotation === 0)}) |`,
  ];
}

function fuzz(outcomes: FuzzOutcome[]): string[] {
  return [
    '| target | inputs | result | most CPU for one input | time |',
    '|---|---|---|---|---|',
    ...outcomes.map((outcome) => `| ${outcome.target} | ${outcome.inputs} | ${outcome.failure ? `**failed**: ${outcome.failure}` : 'held for every input'} | ${ms(outcome.slowestMs)} | ${(outcome.elapsedMs / 1000).toFixed(1)} s |`),
    '',
    'Each property: no crash, no input using over 1 s of CPU (nor taking over 30 s to settle), failures only as `KeyringError`, and no planted secret (refresh token, access token, client secret, code) in any error message. The same properties run with 300 inputs each in `npm test` (test/unit/core/fuzz.test.ts).',
  ];
}

function extensionCost(result: ExtensionCostResult): string[] {
  const editor = result.editor;
  return [
    '| figure | value |',
    '|---|---|',
    ...result.bundles.map((bundle) => `| ${bundle.file} | ${kib(bundle.bytes)} (${kib(bundle.gzipBytes)} gzipped) |`),
    ...(editor
      ? [
        `| activation in real VS Code (code-server 4.139.1), ${editor.configuredServers} servers configured | ${ms(editor.activationMs)}${editor.wasActiveBefore ? ' (already active before the call)' : ''} |`,
        `| extension host RSS before → after activation and opening the view | ${mib(editor.before.rssBytes)} → ${mib(editor.after.rssBytes)} |`,
        `| extension host heap used before → after | ${mib(editor.before.heapUsedBytes)} → ${mib(editor.after.heapUsedBytes)} |`,
      ]
      : [`| editor figures | not measured: ${result.editorError ?? 'unknown reason'} |`]),
    '',
    `The extension host also runs VS Code's built-in extensions, so its absolute memory is theirs too; the difference is what activating MCP Keyring with 50 servers added (${editor?.isGcForced ? 'each sample after a full collection, asked of V8 by the bench test' : 'without a forced GC'}).`,
  ];
}

export function renderMarkdown(run: BenchRun, chartFile: string, soakLifetimeSeconds: number): string {
  return [
    `# MCP Keyring bench, ${run.startedAt}`,
    '',
    `\`npm run bench\` on ${run.machine}; the whole run took ${(run.wallMs / 60_000).toFixed(1)} min (target < 20 min). Other work shared the machine; compare the side-by-side columns, which were measured in the same run.`,
    '',
    ...section('1. Sign-in cost', run.signInCost, signInCost),
    ...section('2. Token latency', run.tokenLatency, tokenLatency),
    ...section('3. Refresh storm', run.refreshStorm, refreshStorm),
    ...section('4. Soak', run.soak, (result) => [...soak(result, soakLifetimeSeconds), '', `![Token age and refreshes over the soak](${chartFile})`]),
    ...section("Through the editor's MCP client", run.editorSoak, editorSoak, 3),
    ...section('5. Faults during refresh', run.faults, faults),
    ...section('6. Crash safety', run.crashSafety, crashSafety),
    ...section('7. Fuzzing', run.fuzz, fuzz),
    ...section('8. Extension cost', run.extensionCost, extensionCost),
  ].join('\n');
}

/** The JSON report: everything but the raw per-call samples (the soak's and the sign-in's), which only feed the figures above. */
export function toJson(run: BenchRun): string {
  return JSON.stringify(run, (key, value: unknown) => {
    if (key === 'latenciesMs' || key === 'tokenAges' || key === 'samples') return undefined;
    if (key === 'refreshesAt' && Array.isArray(value)) return value.length;
    return value;
  }, 2);
}
