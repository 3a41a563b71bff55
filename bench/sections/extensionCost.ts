// Section 8: what the extension costs. Bundle sizes from the build; activation time and extension host memory
// with 50 servers configured, measured inside real VS Code (code-server) through the editor suite's runner, and
// activation with 1 and 500 servers for the growth figures (section 9), each in a fresh editor.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildEditorSuite } from '../../test/editor/buildSuite';
import { runEditorTests } from '../../test/editor/runEditorTests';
import { editorBenchFigures } from '../lib/editorBenchLine';
import type { MemorySample } from './soak';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The configuration issue #15's activation target is for. */
export const SERVER_COUNT = 50;
/** Activation below this with SERVER_COUNT servers (issue #15). */
export const ACTIVATION_TARGET_MS = 50;
/** Fresh editors started with SERVER_COUNT servers; the guard is their median. */
const ACTIVATION_RUNS = 3;

export interface BundleSize {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface EditorFigures {
  readonly configuredServers: number;
  readonly wasActiveBefore: boolean;
  /** Loading dist/extension.cjs (compiling and running its top level). */
  readonly codeLoadingMs: number;
  /** The extension host's activation call until it resolved: preparing the extension's context, then activate(). */
  readonly activateCallMs: number;
  /** The extension's own activate() within that call (NaN when the extension host did not load it from Node's module cache). */
  readonly ownActivateMs: number;
  /** Loading plus the extension's own activate(): what VS Code reports as its activation time (issue #15's figure). */
  readonly activationMs: number;
  /** The memory samples come after a full collection. */
  readonly isGcForced: boolean;
  readonly before: MemorySample;
  readonly after: MemorySample;
}

export interface ExtensionCostResult {
  readonly bundles: readonly BundleSize[];
  /** The run with the median activation of those with SERVER_COUNT servers; undefined when none ran (`editorError` says why). */
  readonly editor?: EditorFigures;
  /** Activation of every run with SERVER_COUNT servers that finished, in the order they ran. */
  readonly activationRunsMs?: readonly number[];
  readonly editorError?: string;
  /** The same measurement with other numbers of servers, for the growth figures; an error instead where it failed. */
  readonly growth: readonly (EditorFigures | { readonly configuredServers: number; readonly error: string })[];
}

async function bundleSize(relativePath: string): Promise<BundleSize> {
  const file = path.join(ROOT, relativePath);
  const { size } = await stat(file);
  return { file: relativePath, bytes: size, gzipBytes: gzipSync(await readFile(file)).length };
}

function configuredServers(count: number) {
  // Nobody listens there: configuring a server must cost nothing until someone uses it.
  return Array.from({ length: count }, (_, index) => ({ url: `http://127.0.0.1:9/mcp/server-${index}`, label: `Bench server ${index}` }));
}

async function measureInEditor(scratchDirectory: string, count: number): Promise<EditorFigures> {
  const result = await runEditorTests({
    // The editor suite's runner with only the bench's in-editor test beside it.
    extensionTestsPath: await buildEditorSuite({ testFiles: [path.join(ROOT, 'bench/editor/extensionHost.test.ts')], outDir: path.join(scratchDirectory, 'editor-suite') }),
    userSettings: { 'mcpKeyring.servers': configuredServers(count), 'mcpKeyring.allowInsecureLoopback': true },
    timeoutMs: 180_000,
  });
  const figures = editorBenchFigures<EditorFigures>(result.output);
  if (result.exitCode !== 0 || !figures) throw new Error(`the in-editor measurement failed (exit ${result.exitCode})`);
  return figures;
}

export async function runExtensionCost(scratchDirectory: string, growthCounts: readonly number[]): Promise<ExtensionCostResult> {
  const bundles = await Promise.all(['dist/extension.cjs', 'dist/cli.mjs'].map(bundleSize));
  const growth: ExtensionCostResult['growth'][number][] = [];
  for (const count of growthCounts.filter((each) => each !== SERVER_COUNT)) {
    growth.push(await measureInEditor(scratchDirectory, count).catch((error: unknown) => ({ configuredServers: count, error: error instanceof Error ? error.message : String(error) })));
  }
  // One start of an editor varies by tens of milliseconds on a shared machine: the guard takes the median run.
  const runs: EditorFigures[] = [];
  let lastError: unknown;
  for (let run = 0; run < ACTIVATION_RUNS; run += 1) {
    await measureInEditor(scratchDirectory, SERVER_COUNT).then((figures) => runs.push(figures), (error: unknown) => (lastError = error));
  }
  if (runs.length === 0) return { bundles, editorError: lastError instanceof Error ? lastError.message : String(lastError), growth };
  const byActivation = [...runs].sort((a, b) => a.activationMs - b.activationMs);
  return { bundles, editor: byActivation[Math.floor((byActivation.length - 1) / 2)], activationRunsMs: runs.map((figures) => figures.activationMs), growth };
}
