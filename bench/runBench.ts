// `npm run bench`: runs the eight sections of issue #6 and the figures of issue #15 (the editor's own MCP sign-in,
// what MCP Keyring adds to the editor, growth with the number of servers) and writes bench/results/<date>.md, .json
// and the charts. The soak runs in three worker processes for its ten minutes while the sections after token latency
// run one after another, the soaks through the editor's MCP client last among them.
// `--quick` shrinks every section (a one-minute soak, fewer runs and inputs) to check the bench itself; its report
// says so in its parameters. `--only editor-soak[=keyring,direct,builtin]` runs the soaks through the editor alone
// (all three columns, or those named) and prints their table instead of writing a report.
import { cpus, loadavg, setPriority } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { growthChart, soakChart } from './lib/chart';
import { editorSoakMarkdown, renderMarkdown, toJson, type BenchRun, type Outcome } from './lib/report';
import type { EditorSoakTarget } from './editor/editorSoakParameters';
import { runCrashSafety, CRASH_ITERATIONS, INTERRUPT_ITERATIONS } from './sections/crashSafety';
import { EDITOR_SOAK_DURATION_MS, runEditorSoaks } from './sections/editorSoak';
import { runExtensionCost } from './sections/extensionCost';
import { runFaults } from './sections/faults';
import { runFuzz, FUZZ_INPUTS } from './sections/fuzz';
import { runGrowth, SERVER_COUNTS } from './sections/growth';
import { runRefreshStorm } from './sections/refreshStorm';
import { runSignInCost, SIGN_IN_RUNS } from './sections/signInCost';
import { SOAK_DURATION_MS, SOAK_TOKEN_LIFETIME_SECONDS, startSoak } from './sections/soak';
import { LATENCY_CALLS, runTokenLatency } from './sections/tokenLatency';

const RESULTS_DIR = path.resolve(import.meta.dirname, 'results');
const SCRATCH_DIR = path.join(RESULTS_DIR, 'tmp');
/** A nice value: the soak measures time-sensitive things, the sections running beside it mostly do not. */
const BELOW_SOAK_PRIORITY = 10;

const isQuick = process.argv.includes('--quick');
const parameters = isQuick
  ? { soakMs: 60_000, editorSoakMs: 20_000, signInRuns: 3, latencyCalls: 5_000, crashIterations: 10, interruptIterations: 4, fuzzInputs: 1_000 }
  : { soakMs: SOAK_DURATION_MS, editorSoakMs: EDITOR_SOAK_DURATION_MS, signInRuns: SIGN_IN_RUNS, latencyCalls: LATENCY_CALLS, crashIterations: CRASH_ITERATIONS, interruptIterations: INTERRUPT_ITERATIONS, fuzzInputs: FUZZ_INPUTS };

function log(message: string): void {
  console.log(`[bench] ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s  ${message}`);
}

async function measure<T>(name: string, work: () => Promise<T>): Promise<Outcome<T>> {
  log(`${name}…`);
  try {
    const result = await work();
    log(`${name} done`);
    return { ok: result };
  } catch (error) {
    log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const started = performance.now();
const only = process.argv.find((argument) => argument.startsWith('--only'));
if (only !== undefined) {
  const [section, targets] = only.replace(/^--only=?/, '').split('=');
  if (section !== 'editor-soak') throw new Error(`--only knows editor-soak only, not ${section || 'nothing'}`);
  await mkdir(SCRATCH_DIR, { recursive: true });
  const soaks = await runEditorSoaks(SCRATCH_DIR, parameters.editorSoakMs, measure, targets ? (targets.split(',') as EditorSoakTarget[]) : undefined);
  console.log(editorSoakMarkdown(soaks).join('\n'));
  await writeFile(path.join(SCRATCH_DIR, 'editor-soak.json'), `${JSON.stringify(soaks, null, 2)}\n`);
  log(`the table's figures are in ${path.relative(process.cwd(), path.join(SCRATCH_DIR, 'editor-soak.json'))}`);
  process.exit(0);
}
const startedAt = new Date();
const loadAtStart = loadavg()[0]!;
await mkdir(SCRATCH_DIR, { recursive: true });
// The timing-sensitive sections run before the soak's workers start competing for the two cores.
const signInCost = await measure('sign-in cost', () => runSignInCost(parameters.signInRuns));
const tokenLatency = await measure('token latency', () => runTokenLatency(parameters.latencyCalls));
log(`soak started (${parameters.soakMs / 60_000} min, in three worker processes)`);
const soak = measure('soak', () => startSoak(SCRATCH_DIR, parameters.soakMs));
// The soak's workers keep their priority; this process and everything it starts from now on yield to them.
setPriority(process.pid, BELOW_SOAK_PRIORITY);
const refreshStorm = await measure('refresh storm', () => runRefreshStorm());
const faults = await measure('faults', () => runFaults());
const crashSafety = await measure('crash safety', () => runCrashSafety(parameters.crashIterations, parameters.interruptIterations));
const fuzz = await measure('fuzzing', () => runFuzz(parameters.fuzzInputs));
const growth = await measure('growth with the number of servers', () => runGrowth());
log('waiting for the soak to finish');
const soakOutcome = await soak;
// Activation is a time on the editor's thread: measured once the soak's workers (which this process yields to) ended.
const extensionCost = await measure('extension cost', () => runExtensionCost(SCRATCH_DIR, SERVER_COUNTS));
// After the soak's workers ended: the relay's added latency is a difference of two editors' runs, which load from
// elsewhere on two cores swamps (issue #15).
const editorSoak = await runEditorSoaks(SCRATCH_DIR, parameters.editorSoakMs, measure);

const run: BenchRun = {
  startedAt: startedAt.toISOString(),
  wallMs: performance.now() - started,
  machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`,
  parameters,
  signInCost,
  tokenLatency,
  refreshStorm,
  soak: soakOutcome,
  editorSoak,
  faults,
  crashSafety,
  fuzz,
  extensionCost,
  growth,
};
const name = `${startedAt.toISOString().slice(0, 10)}${isQuick ? '-quick' : ''}`;
const chartFile = `${name}-soak.svg`;
const growthChartFile = `${name}-growth.svg`;
await writeFile(path.join(RESULTS_DIR, `${name}.md`), renderMarkdown(run, { soak: chartFile, growth: growthChartFile }, SOAK_TOKEN_LIFETIME_SECONDS));
await writeFile(path.join(RESULTS_DIR, `${name}.json`), `${toJson(run)}\n`);
if ('ok' in soakOutcome) await writeFile(path.join(RESULTS_DIR, chartFile), soakChart(soakOutcome.ok.engine, soakOutcome.ok.sdk, SOAK_TOKEN_LIFETIME_SECONDS));
if ('ok' in growth) await writeFile(path.join(RESULTS_DIR, growthChartFile), growthChart(growth.ok, 'ok' in extensionCost ? extensionCost.ok : undefined));
log(`wrote bench/results/${name}.md, .json${'ok' in soakOutcome ? ' and the charts' : ''}`);
// Fixture servers and the editor leave handles behind; the report is written, so end here.
process.exit(0);
