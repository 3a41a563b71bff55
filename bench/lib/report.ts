// Turns one bench run into the committed report: Markdown for people (every figure next to its target), JSON for
// tools (summaries only; raw samples stay out of the repository).
import type { FuzzOutcome } from '../../test/fuzz/fuzzTargets';
import type { CrashSafetyResult } from '../sections/crashSafety';
import type { CostOrigin, ExtensionHostCost } from '../editor/extensionHostProfile';
import type { EditorSoakResult, EditorSoaks } from '../sections/editorSoak';
import { ACTIVATION_TARGET_MS, type EditorFigures, type ExtensionCostResult } from '../sections/extensionCost';
import type { GrowthPoint } from '../sections/growth';
import type { FaultOutcome } from '../sections/faults';
import type { RefreshStormResult } from '../sections/refreshStorm';
import type { SignInCostResult, SignInKind } from '../sections/signInCost';
import { latencySummary, type MemorySample, type SoakResult, type SoakSide } from '../sections/soak';
import type { TokenLatencyResult } from '../sections/tokenLatency';
import { totalRequests, type RequestCounts } from './benchServers';
import { ratio } from './stats';
import { EDITOR_SOAK_CALLS_PER_SECOND } from '../editor/editorSoakParameters';

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
  readonly editorSoak: EditorSoaks;
  readonly faults: Outcome<FaultOutcome[]>;
  readonly crashSafety: Outcome<CrashSafetyResult>;
  readonly fuzz: Outcome<FuzzOutcome[]>;
  readonly extensionCost: Outcome<ExtensionCostResult>;
  readonly growth: Outcome<GrowthPoint[]>;
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
  return side.side !== 'sdk' ? keyringRefreshesExpected(side.durationMs, lifetimeSeconds) : Math.floor(side.durationMs / 1000 / lifetimeSeconds);
}

function memoryGrowth(start: MemorySample, end: MemorySample, key: 'rssBytes' | 'heapUsedBytes'): string {
  return `${mib(start[key])} → ${mib(end[key])} (${end[key] >= start[key] ? '+' : ''}${mib(end[key] - start[key])})`;
}

function latencyText(soakRun: Pick<SoakSide, 'latenciesMs'>): string {
  const summary = latencySummary(soakRun);
  return `${ms(summary.p50Ms)} / ${ms(summary.p99Ms)} / ${ms(summary.maxMs)}`;
}

function soak(result: SoakResult, lifetimeSeconds: number): string[] {
  const sides = [result.engine, result.sdk, result.dpop];
  const row = (label: string, value: (side: SoakSide) => string) => `| ${label} | ${sides.map(value).join(' | ')} |`;
  const growth = (side: SoakSide, key: 'rssBytes' | 'heapUsedBytes') => memoryGrowth(side.memoryAtStart, side.memoryAtEnd, key);
  return [
    `Tokens live ${lifetimeSeconds} s, refresh-token rotation on, ${Math.round(result.engine.calls / (result.engine.durationMs / 1000))} tool calls per second (\`echo\` through the SDK's MCP \`Client\`), all three sides at the same time, each in its own process with its own identical servers (so memory and counts are its own). Memory includes that process's fixture servers; heap after a forced GC.`,
    '',
    '| | MCP Keyring | SDK client | MCP Keyring, DPoP-bound tokens with nonces | target |',
    '|---|---|---|---|---|',
    row('duration', (side) => `${(side.durationMs / 60_000).toFixed(1)} min`) + ' 10 min |',
    row('tool calls', (side) => String(side.calls)) + ' |',
    row('calls that saw a 401 (counted at the MCP server, with its reasons)', (side) => `${side.callsThatSaw401}${reasonsText(side.unauthorizedReasons)}`) + ' 0 |',
    row('failed calls', (side) => `${side.failedCalls}${side.failedCalls > 0 ? ` (${Object.entries(side.failureKinds).map(([kind, count]) => `${kind} ${count}`).join(', ')})` : ''}`) + ' 0 |',
    row('refreshes at the server / expected', (side) => `${side.refreshes} / ${expectedRefreshes(side, lifetimeSeconds)}`) + ' |',
    row('sign-in prompts', (side) => String(side.signInPrompts)) + ' 0 |',
    row('oldest token sent', (side) => `${(Math.max(...side.tokenAges.map(([, age]) => age)) / 1000).toFixed(1)} s`) + ` < ${lifetimeSeconds} s |`,
    row('call latency p50 / p99 / max', latencyText) + ' |',
    row('RSS start → end', (side) => growth(side, 'rssBytes')) + ' |',
    row('heap used start → end', (side) => growth(side, 'heapUsedBytes')) + ' |',
    row('DPoP: MCP requests refused for their proof (nonce demands answered by a retry)', (side) => (side.dpop ? Object.entries(side.dpop.refusals).map(([reason, count]) => `${reason} ×${count}`).join(', ') || '0' : '—')) + ' |',
    row('DPoP: cost of the proof per MCP request, p50 / p99 (timed alone)', (side) => (side.dpop ? `${ms(side.dpop.proofCost.p50Ms)} / ${ms(side.dpop.proofCost.p99Ms)} over ${side.dpop.proofCost.samples} requests` : '—')) + ' |',
    '',
    `Verdict for MCP Keyring: 401s ${verdict(result.engine.callsThatSaw401 === 0)}, failed calls ${verdict(result.engine.failedCalls === 0)}; with DPoP: failed calls ${verdict(result.dpop.failedCalls === 0)} (target 0), 401s ${verdict(result.dpop.callsThatSaw401 === 0)}.`,
    'The DPoP side signs in once (the MCP server challenges with the DPoP scheme, so the sign-in binds its tokens to a new ES256 key); oidc-provider and the MCP server both demand a fresh nonce in every proof, which the engine learns from their answers and retries once with. The proof cost is the engine\'s request path (`sendWithDpop`: a fresh proof with `ath`, built by oauth4webapi) against a fetch that answers at once, timed in the same process after the soak.',
    'Expected refreshes: MCP Keyring refreshes when half of a short lifetime is left (duration ÷ 2.5 s); the SDK refreshes only after a 401 (duration ÷ 5 s). Token age is measured from the token\'s `iat`, which has whole-second resolution, so ages read up to 1 s high.',
  ];
}

const reasonsText = (reasons: Readonly<Record<string, number>> | undefined) => {
  const entries = Object.entries(reasons ?? {});
  return entries.length === 0 ? '' : ` (${entries.map(([reason, count]) => `${reason} ×${count}`).join('; ')})`;
};

/** Targets of issue #15 for what MCP Keyring adds to the editor, measured against the token-free baseline. */
export const EDITOR_TARGETS = { relayP50Ms: 2, relayP99Ms: 20, rssShareBytes: 20 * 1024 * 1024 } as const;

const growthOf = (result: EditorSoakResult, key: 'rssBytes' | 'heapUsedBytes' | 'heapTotalBytes' | 'externalBytes') => (result.memoryAtEnd[key] ?? 0) - (result.memoryAtStart[key] ?? 0);
const signedMib = (bytes: number) => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;

/** What MCP Keyring adds over the editor's MCP client alone: latency and memory, keyring run minus baseline run. */
export function relayCost(keyring: EditorSoakResult, direct: EditorSoakResult) {
  const relay = latencySummary(keyring);
  const baseline = latencySummary(direct);
  return {
    addedP50Ms: relay.p50Ms - baseline.p50Ms,
    addedP99Ms: relay.p99Ms - baseline.p99Ms,
    rssShareBytes: growthOf(keyring, 'rssBytes') - growthOf(direct, 'rssBytes'),
  };
}

const perCall = (result: EditorSoakResult, value: number) => value / Math.max(result.calls, 1);
const ORIGIN_LABELS = "MCP Keyring's code / the editor's proxy layer / the rest of the editor and Node";
/** The extension host's cost figures of a column, where it made calls and was profiled. */
const costText = (result: EditorSoakResult, format: (cost: ExtensionHostCost) => string) => (result.extensionHostCost && result.calls > 0 ? format(result.extensionHostCost) : '—');
const byOrigin = (values: Record<CostOrigin, number>, format: (value: number) => string) => [values.keyring, values.proxyLayer, values.rest].map(format).join(' / ');

/**
 * Where the relay's extra work per call went: the keyring column's CPU and allocations per call minus the baseline's,
 * split by whose code did it (bench/editor/extensionHostProfile.ts).
 */
function whoseCost(keyring: EditorSoakResult, direct: EditorSoakResult): string[] {
  const keyringCost = keyring.extensionHostCost;
  const directCost = direct.extensionHostCost;
  if (!keyringCost || !directCost) return [];
  const extra = (pick: (cost: ExtensionHostCost) => Record<CostOrigin, number>, origin: CostOrigin) => perCall(keyring, pick(keyringCost)[origin]) - perCall(direct, pick(directCost)[origin]);
  const cpu = (origin: CostOrigin) => extra((cost) => cost.cpuProfileMs, origin);
  const allocated = (origin: CostOrigin) => extra((cost) => cost.allocatedBytes, origin);
  const cpuTotal = perCall(keyring, keyringCost.cpuMs) - perCall(direct, directCost.cpuMs);
  return [
    `Whose work the difference is. Per call, the extension host spent ${ms(cpuTotal)} more CPU with the relay than without; its CPU profiles put ${ms(cpu('keyring'))} of the difference in MCP Keyring's code, ${ms(cpu('proxyLayer'))} in the editor's proxy layer and ${ms(cpu('rest'))} in the rest of the editor and Node. Of the allocations, ${kib(allocated('keyring'))} more per call were MCP Keyring's, ${kib(allocated('proxyLayer'))} the proxy layer's and ${kib(allocated('rest'))} the rest's.`,
    '',
    "The proxy layer is @vscode/proxy-agent, which the editor wraps around every fetch and http(s) request any extension makes: on each one it reads the person's proxy and certificate settings anew (several `getConfiguration` calls). The relay's request upstream is one such request, so a relayed call pays it twice where the baseline pays it once. The relay keeps its upstream request on the editor's fetch so that the person's proxy settings, PAC and system proxies and system certificates apply to it; leaving it would mean re-implementing the editor's proxy resolution, whose system-proxy answers come from the editor's main process and are not open to extensions. The rest includes Node's HTTP server and fetch machinery for the relay's extra hop, which runs from the event loop with no frame of MCP Keyring on its stack, and garbage collection. Samples are put down to the innermost frame of MCP Keyring's bundle or of the proxy layer on their stack; both profilers ran in every column, so their own cost cancels out in the differences.",
    '',
  ];
}

/**
 * A relay cannot make calls faster than no relay: a negative difference says the two editors' runs differed by more
 * than the relay costs (load from elsewhere), so it proves nothing either way.
 */
function latencyVerdict(addedMs: number, targetMs: number): string {
  return addedMs < 0 ? '**not measurable** (the baseline was slower: noise larger than the relay\'s cost)' : verdict(addedMs < targetMs);
}

export function editorSoakMarkdown(soaks: EditorSoaks): string[] {
  const runs = [['MCP Keyring (relay)', soaks.keyring], ['no token, no relay (baseline)', soaks.direct], ["the editor's own MCP sign-in", soaks.builtin]] as const;
  const cell = (outcome: Outcome<EditorSoakResult>, value: (result: EditorSoakResult) => string) => ('ok' in outcome ? value(outcome.ok) : 'not measured');
  const row = (label: string, value: (result: EditorSoakResult) => string, target = '') => `| ${label} | ${runs.map(([, outcome]) => cell(outcome, value)).join(' | ')} | ${target} |`;
  const failures = (result: EditorSoakResult) => Object.entries(result.failureKinds).map(([kind, count]) => `${kind} ×${count}`).join('; ');
  const isCancelled = (kind: string) => /cancel/i.test(kind);
  const countKinds = (result: EditorSoakResult, predicate: (kind: string) => boolean) => Object.entries(result.failureKinds).filter(([kind]) => predicate(kind)).reduce((sum, [, count]) => sum + count, 0);
  const ok = runs.find(([, outcome]) => 'ok' in outcome)?.[1];
  const lifetime = ok && 'ok' in ok ? ok.ok.tokenLifetimeSeconds : 5;
  const lines = [
    `The same load as the engine soak through VS Code's own MCP client in real VS Code (code-server 4.139.1): ${EDITOR_SOAK_CALLS_PER_SECOND} tool calls a second to an MCP server's \`echo\` tool with \`vscode.lm.invokeTool\` on a fixed timetable (a slow call overlaps the next ones), tokens living ${lifetime} s (JWT) with refresh-token rotation (the editor fixtures' oidc-provider rotates on every refresh). One fresh editor for each column, one after another in the same bench run, after the engine soak's workers have ended (so the two cores are as quiet as the bench can make them): **MCP Keyring** signs in once (the runner plays the person) and its authorizing relay carries every call; the **baseline** calls a server that needs no token (a fixed header in the workspace's mcp.json), so it is the editor's MCP client alone; **the editor's own MCP sign-in** has the same OAuth fixture server in mcp.json for VS Code's dynamic authentication provider to sign in to. Its registration carries the resource's scopes, which oidc-provider refuses; the fixture ignores that field for this run only (as the SDK client's comparison drops it, bench/lib/sdkClient.ts). Counts are taken at the servers over the calls' window unless said otherwise.`,
    '',
    `How each editor ran: MCP Keyring and the baseline as an in-editor test (extension test mode, which refuses every dialog; none is needed there). The editor's own sign-in needs its dialogs, so its load runs as a second extension under development in a workbench without \`extensionTestsPath\` (bench/editor/editorSoakExtension.ts, started by bench/sections/editorSoakBuiltin.ts), MCP Keyring loaded beside it as in the other columns. The runner (Playwright on the workbench page) plays the person: it answers every modal dialog with its affirmative button and every quick input with its first entry, counted in the row below; signs in and consents in the tab the editor opens (test/editor/authorizationPages.ts); goes back to the editor's tab. The provider's redirect URI in a browser window is https://vscode.dev/redirect, which sends the browser on to the editor's callback (code-server's /callback route) named in \`state\`; the network here is closed, so the runner answers for that page, forwarding every parameter, \`state\` first. In the order the authorization server sends them (code first) the editor loses the code: VS Code for the Web's callback page puts the extra parameters first and the provider looks for \`code\` after a \`?\` or \`&\` only (microsoft/vscode#312105), and the sign-in ends with “No authorization code received”. The fixture's \`echo\` tool is annotated read-only (it is), without which the editor asks a Yes/No confirmation before every call an extension makes outside chat (test mode answers them silently in the other columns).`,
    '',
    `| | ${runs.map(([label]) => label).join(' | ')} | target |`,
    `|---|${runs.map(() => '---|').join('')}---|`,
    row('duration of the calls', (result) => (result.unavailable ? `**no calls**: ${result.unavailable}` : `${(result.durationMs / 60_000).toFixed(1)} min`), '2 min'),
    row("connection attempts in the editor's log of the server (whole run)", (result) => String(result.editorServerStarts)),
    row('dialogs and quick inputs the runner answered in the workbench (whole run)', dialogsText, '1 sign-in'),
    row('before the calls: sign-in tabs / 401s at the server / token requests', (result) => `${result.setup.signInPrompts} / ${result.setup.unauthorizedAtServer} / ${result.setup.tokenRequests}`),
    row('tool calls (answered by the OAuth MCP server)', (result) => `${result.calls} (${result.directServer ? `${result.directServer.accepted} at the token-free server, whole run` : result.acceptedAtServer})`),
    row('calls that saw a 401 (401s answered by the MCP server)', (result) => String(result.unauthorizedAtServer), '0'),
    row('failed calls', (result) => `${result.failedCalls - countKinds(result, isCancelled)}${failures(result) ? ` (${failures(result)})` : ''}`, '0'),
    row('cancelled calls', (result) => String(countKinds(result, isCancelled)), '0'),
    row('refreshes at the server', (result) => String(result.tokenRequests)),
    row('sign-in prompts during the calls (browser tabs)', (result) => String(result.signInPrompts), '0'),
    row('MCP sessions started during the calls (initialize requests)', (result) => String(result.initializeRequests), '0'),
    row('oldest token sent (whole run, sign-in included)', (result) => (result.directServer ? '—' : `${(result.oldestTokenSentMs / 1000).toFixed(1)} s`), `< ${lifetime} s`),
    row('call latency p50 / p99 / max', latencyText),
    row('most calls waiting at once', (result) => String(result.mostInFlight)),
    row('extension host RSS start → end', (result) => memoryGrowth(result.memoryAtStart, result.memoryAtEnd, 'rssBytes')),
    row('extension host heap used start → end (after GC)', (result) => memoryGrowth(result.memoryAtStart, result.memoryAtEnd, 'heapUsedBytes')),
    row('extension host CPU over the calls, per call', (result) => costText(result, (cost) => `${ms(cost.cpuMs)} (${ms(perCall(result, cost.cpuMs))})`)),
    row(`of which, per call (CPU profile): ${ORIGIN_LABELS}`, (result) => costText(result, (cost) => byOrigin(cost.cpuProfileMs, (value) => ms(perCall(result, value))))),
    row(`allocated over the calls, per call: ${ORIGIN_LABELS}`, (result) => costText(result, (cost) => byOrigin(cost.allocatedBytes, (value) => kib(perCall(result, value))))),
    row('growth of V8 heap reserved / external memory (Buffers, native)', (result) => `${signedMib(growthOf(result, 'heapTotalBytes'))} / ${signedMib(growthOf(result, 'externalBytes'))}`),
    row("the runner's checks afterwards: no token in the profile, logs or browser storage (not for the editor's own sign-in, whose tokens are the editor's to keep); no 401 or 403 in the editor's MCP logs", (result) => (result.failedRunnerChecks.length === 0 ? 'passed' : `**failed**: ${result.failedRunnerChecks.join('; ')}`), 'passed (MCP Keyring)'),
    '',
  ];
  if ('ok' in soaks.keyring && 'ok' in soaks.direct) {
    const cost = relayCost(soaks.keyring.ok, soaks.direct.ok);
    lines.push(
      "What MCP Keyring adds to the editor (its column minus the baseline's, same bench run): the regression guards of issue #15.",
      '',
      '| figure | value | target | verdict |',
      '|---|---|---|---|',
      `| relay's added latency, median | ${ms(cost.addedP50Ms)} | < ${EDITOR_TARGETS.relayP50Ms} ms | ${latencyVerdict(cost.addedP50Ms, EDITOR_TARGETS.relayP50Ms)} |`,
      `| relay's added latency, p99 | ${ms(cost.addedP99Ms)} | < ${EDITOR_TARGETS.relayP99Ms} ms | ${latencyVerdict(cost.addedP99Ms, EDITOR_TARGETS.relayP99Ms)} |`,
      `| MCP Keyring's share of the extension host's RSS growth over the calls | ${signedMib(cost.rssShareBytes)} | < ${mib(EDITOR_TARGETS.rssShareBytes)} | ${verdict(cost.rssShareBytes < EDITOR_TARGETS.rssShareBytes)} |`,
      '',
      ...whoseCost(soaks.keyring.ok, soaks.direct.ok),
    );
  }
  const keyring = 'ok' in soaks.keyring ? soaks.keyring.ok : undefined;
  if (keyring) lines.push(`Verdict for MCP Keyring: 401s ${verdict(keyring.unauthorizedAtServer === 0)}, failed calls ${verdict(keyring.failedCalls === 0)}.`);
  const builtin = 'ok' in soaks.builtin ? soaks.builtin.ok : undefined;
  if (builtin && builtin.editorMcpWarnings.length > 0) {
    lines.push(`What the editor logged for the server in the run of its own sign-in (distinct warnings, digits as N, with their counts): ${builtin.editorMcpWarnings.map((warning) => `“${warning.text}” ×${warning.count}`).join('; ')}.`);
  }
  lines.push(
    `Expected refreshes for MCP Keyring: the extension's background scheduler (src/core/refreshScheduler.ts with src/core/refreshPolicy.ts) refreshes when half of a short lifetime is left, so about one per ${lifetime / 2} s (plus each refresh's round trip). VS Code's own provider refreshes a token whenever a session is asked for within 5 minutes of its expiry (its DynamicAuthProvider), which for ${lifetime} s tokens is every time. Memory: the extension host also runs VS Code's built-in extensions; each sample after a full collection, asked of V8 by the bench test (the extension host runs without --expose-gc).`,
  );
  return lines;
}

/** Each kind of dialog with its count; the in-editor tests' columns show none (extension test mode refuses them). */
function dialogsText(result: EditorSoakResult): string {
  if (!result.dialogsAnswered) return '— (extension test mode)';
  const kinds = Object.entries(result.dialogsAnswered);
  return kinds.length === 0 ? '0' : kinds.map(([kind, count]) => `${kind} ×${count}`).join('; ');
}

function faults(outcomes: FaultOutcome[]): string[] {
  return [
    'Each fault hits the token endpoint when the credential becomes due for refresh (rotation on); a caller makes an MCP request every 250 ms throughout, never interactively. Against oidc-provider tokens live 6 s; against @cloudflare/workers-oauth-provider (in workerd, its tokens live 60 s at least) the Worker\'s clock and the engine\'s move past expiry together. Recovery: from the end of the fault to the first call that worked after the last failure.',
    '',
    '| fault | authorization server | lasted | outcome | calls failed / made | slowest call | browser opened | sign-in requested | recovery | target |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...outcomes.map((outcome) => {
      const state = !outcome.credentialKept ? '**credential lost**' : outcome.markedNeedsSignIn ? 'tokens kept, marked needs sign-in' : 'tokens kept, not marked';
      const recovery = outcome.recoveryMs === undefined ? 'none (needs sign-in)' : outcome.recoveryMs === 0 ? 'no call failed' : ms(outcome.recoveryMs);
      const target = outcome.server === 'workers-oauth-provider' ? `not needs sign-in (${verdict(outcome.credentialKept && !outcome.markedNeedsSignIn && outcome.browserOpened === 0)})` : '';
      return `| ${outcome.fault} | ${outcome.server} | ${ms(outcome.faultMs)} | ${state}${outcome.errorCodes.length ? ` (${outcome.errorCodes.join(', ')})` : ''} | ${outcome.failedCalls} / ${outcome.calls} | ${ms(outcome.slowestCallMs)} | ${outcome.browserOpened} | ${outcome.signInRequested} | ${recovery} | ${target} |`;
    }),
    '',
    'With rotation on, a refresh whose answer is lost on the way (reset mid-response, truncated JSON) has already consumed the old refresh token at the server. oidc-provider then revokes the grant when the old token is presented again (reuse detection, no grace): the credential is marked *needs sign-in* with the reason `invalid_grant`, the record is kept and nobody is prompted from the background. workers-oauth-provider keeps the previous refresh token valid until the new one is used, so the engine\'s next refresh, which presents the previous token again (it never stored the lost answer), succeeds without a prompt.',
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
    '| figure | value | target |',
    '|---|---|---|',
    ...result.bundles.map((bundle) => `| ${bundle.file} | ${kib(bundle.bytes)} (${kib(bundle.gzipBytes)} gzipped) | |`),
    ...(editor
      ? [
        `| activation in real VS Code (code-server 4.139.1), ${editor.configuredServers} servers configured, as VS Code reports it: loading the bundle + MCP Keyring's activate(); the median of ${result.activationRunsMs?.length ?? 1} fresh editors | ${ms(editor.activationMs)} = ${ms(editor.codeLoadingMs)} + ${ms(editor.ownActivateMs)}${editor.wasActiveBefore ? ' (already active before the call)' : ''}${result.activationRunsMs ? ` (every run: ${result.activationRunsMs.map(ms).join(', ')})` : ''} | < ${ACTIVATION_TARGET_MS} ms (${verdict(editor.activationMs < ACTIVATION_TARGET_MS)}) |`,
        `| the extension host's whole activation call (its context, then activate()), not counted by VS Code, in the median run | ${ms(editor.activateCallMs)} | |`,
        `| extension host RSS before → after activation and opening the view | ${mib(editor.before.rssBytes)} → ${mib(editor.after.rssBytes)} | |`,
        `| extension host heap used before → after | ${mib(editor.before.heapUsedBytes)} → ${mib(editor.after.heapUsedBytes)} | |`,
      ]
      : [`| editor figures | not measured: ${result.editorError ?? 'unknown reason'} | |`]),
    '',
    `Activation is the figure VS Code itself reports for an extension (Developer: Show Running Extensions adds the extension host's \`codeLoadingTime\` and \`activateCallTime\`), measured by the bench's in-editor test: loading dist/extension.cjs (the test requires it first, through the Node module cache the extension host then finds it in) and MCP Keyring's activate(), timed by a wrapper the test puts around the cached exports; activate() returns at once, with no promise to wait for. The extension host's whole activation call is shown beside it: it also prepares the extension's context (storage, secrets) and shares its thread with the built-in extensions activating at the same time, which is why it is much longer and not ours. The relay's listener starts when the editor first asks for MCP server definitions, and activate() awaits nothing. The activation target is a regression guard (issue #15). The extension host also runs VS Code's built-in extensions, so its absolute memory is theirs too; the difference is what activating MCP Keyring added (${editor?.isGcForced ? 'each sample after a full collection, asked of V8 by the bench test' : 'without a forced GC'}).`,
  ];
}

function growth(points: GrowthPoint[], activation: readonly (EditorFigures | { configuredServers: number; error: string })[], chartFile: string): string[] {
  const activationFor = (count: number) => {
    const figures = activation.find((each) => each.configuredServers === count);
    if (!figures) return 'not measured';
    return 'error' in figures ? `failed: ${figures.error}` : `${ms(figures.activationMs)} (${ms(figures.codeLoadingMs)} + ${ms(figures.ownActivateMs)}; the host's whole activation call ${ms(figures.activateCallMs)})`;
  };
  return [
    'Activation in the real editor (a fresh code-server for each count, servers nobody listens at); rendering the servers view and the background refresh scheduler on the real classes in Node: a render is getChildren and every item\'s getTreeItem (the view does it once a second while visible, for its countdown; servers not signed in), the scheduler runs two simulated hours with every server signed in to one-hour tokens obtained at moments spread over the hour, its refreshes answered at once.',
    '',
    '| servers | activation as VS Code reports it (loading + activate()) | view render p50 / p99 | scheduler wake-ups per hour | plannings per hour | refreshes per hour | scheduler CPU per hour |',
    '|---|---|---|---|---|---|---|',
    ...points.map((point) => `| ${point.servers} | ${activationFor(point.servers)} | ${ms(point.treeRenderP50Ms)} / ${ms(point.treeRenderP99Ms)} | ${point.schedulerWakeUpsPerHour.toFixed(0)} | ${point.schedulerPlanningsPerHour.toFixed(0)} | ${point.refreshesPerHour.toFixed(0)} | ${ms(point.schedulerCpuMsPerHour)} |`),
    '',
    `Wake-ups: one alarm per due refresh plus the wall-clock check every 30 s (120 an hour whatever the count). A finished refresh replans only its own server's credentials: ${points.map((point) => `${ms(point.schedulerCpuMsPerHour)}`).join(' / ')} of scheduler CPU an hour for ${points.map((point) => point.servers).join(' / ')} servers.`,
    '',
    `![Growth with the number of servers](${chartFile})`,
  ];
}

export function renderMarkdown(run: BenchRun, charts: { soak: string; growth: string }, soakLifetimeSeconds: number): string {
  const chartFile = charts.soak;
  return [
    `# MCP Keyring bench, ${run.startedAt}`,
    '',
    `\`npm run bench\` on ${run.machine}; the whole run took ${(run.wallMs / 60_000).toFixed(1)} min (target < 25 min, issue #15). Other work shared the machine; compare the side-by-side columns, which were measured in the same run.`,
    '',
    ...section('1. Sign-in cost', run.signInCost, signInCost),
    ...section('2. Token latency', run.tokenLatency, tokenLatency),
    ...section('3. Refresh storm', run.refreshStorm, refreshStorm),
    ...section('4. Soak', run.soak, (result) => [...soak(result, soakLifetimeSeconds), '', `![Token age and refreshes over the soak](${chartFile})`]),
    ...section("Through the editor's MCP client", { ok: run.editorSoak }, editorSoakMarkdown, 3),
    ...section('5. Faults during refresh', run.faults, faults),
    ...section('6. Crash safety', run.crashSafety, crashSafety),
    ...section('7. Fuzzing', run.fuzz, fuzz),
    ...section('8. Extension cost', run.extensionCost, extensionCost),
    ...section('9. Growth with the number of servers', run.growth, (points) => growth(points, 'ok' in run.extensionCost ? [...run.extensionCost.ok.growth, ...(run.extensionCost.ok.editor ? [run.extensionCost.ok.editor] : [])] : [], charts.growth)),
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
