// `npm run test:conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance, pinned below)
// against the real command line. Installs the suite and the Node 24 it needs into the ignored .vscode-test/ cache,
// runs every client-authorization scenario once for each protocol revision the suite lists for it (extension
// scenarios once, at the revision the suite picks), and fails when any leg fails. A leg passes when the suite's
// verdict is PASSED with no failed and no warned check. Ends with `conformance: P/N legs`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { completeMarker, ensureNode, installIsolated, isComplete, npmOnNode24Environment, withoutNpmRunVariables } from '../editor/install';
import { cacheDir, nodeBinary, repoRoot } from '../editor/paths';

const conformanceVersion = '0.2.0-alpha.12';
const suiteDir = path.join(cacheDir, `conformance-${conformanceVersion}`);
const suiteEntry = path.join(suiteDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const resultsDir = path.join(repoRoot, '.tmp', 'conformance');
const adapter = path.join(repoRoot, 'test', 'conformance', 'conformanceClient.ts');
/** Two legs at a time: each is mostly waiting on processes starting, and CI has two cores. */
const CONCURRENT_LEGS = 2;

interface Leg {
  readonly scenario: string;
  /** Undefined for extension scenarios: the suite picks their revision. */
  readonly specVersion?: string;
}

interface LegResult extends Leg {
  readonly passed: boolean;
  readonly checks: { readonly passed: number; readonly failed: number; readonly warnings: number };
  readonly failures: readonly string[];
}

async function ensureSuite(): Promise<void> {
  await ensureNode();
  const expected = { conformance: conformanceVersion };
  if (isComplete(suiteDir, expected) && existsSync(suiteEntry)) return;
  console.log(`[conformance] installing @modelcontextprotocol/conformance@${conformanceVersion} into ${path.relative(repoRoot, suiteDir)}`);
  await installIsolated(suiteDir, { '@modelcontextprotocol/conformance': conformanceVersion }, {}, npmOnNode24Environment());
  if (!existsSync(suiteEntry)) throw new Error(`@modelcontextprotocol/conformance@${conformanceVersion} installed, but ${suiteEntry} is missing`);
  writeFileSync(path.join(suiteDir, completeMarker), JSON.stringify(expected));
}

function runSuite(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, [suiteEntry, ...args], { cwd: repoRoot, env: withoutNpmRunVariables(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** `auth/x [2025-11-25,2026-07-28]` lines of `conformance list --client`: one leg per listed revision. */
function authorizationLegs(listing: string): Leg[] {
  const legs: Leg[] = [];
  for (const match of listing.matchAll(/^\s*-\s+(auth\/\S+)\s+\[([^\]]*)\]/gm)) {
    const [, scenario, applicability] = match as unknown as [string, string, string];
    const versions = applicability.split(',').map((entry) => entry.trim()).filter((entry) => /^\d{4}-\d{2}-\d{2}$/.test(entry));
    if (versions.length === 0) legs.push({ scenario });
    for (const specVersion of versions) legs.push({ scenario, specVersion });
  }
  return legs;
}

function legName(leg: Leg): string {
  return `${leg.scenario}@${leg.specVersion ?? 'extension'}`;
}

interface Check {
  readonly id: string;
  readonly status: string;
  readonly description?: string;
}

/** The checks.json the suite wrote for this leg (its output folder is the leg's own). */
function readChecks(outputDir: string): Check[] {
  const found: Check[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name === 'checks.json') found.push(...(JSON.parse(readFileSync(full, 'utf8')) as Check[]));
    }
  };
  if (existsSync(outputDir)) visit(outputDir);
  return found;
}

async function runLeg(leg: Leg, command: string): Promise<LegResult> {
  const outputDir = path.join(resultsDir, legName(leg).replace(/[^\w.@-]+/g, '_'));
  rmSync(outputDir, { recursive: true, force: true });
  mkdirSync(outputDir, { recursive: true });
  const args = ['client', '--command', command, '--scenario', leg.scenario, '--output-dir', outputDir, ...(leg.specVersion ? ['--spec-version', leg.specVersion] : [])];
  const { code, output } = await runSuite(args);
  writeFileSync(path.join(outputDir, 'suite-output.txt'), output);
  const checks = readChecks(outputDir);
  const failed = checks.filter((check) => check.status === 'FAILURE');
  const warned = checks.filter((check) => check.status === 'WARNING');
  const passedChecks = checks.filter((check) => check.status === 'SUCCESS').length;
  const verdictPassed = code === 0 && /OVERALL: PASSED/.test(output);
  const failures = [...failed, ...warned].map((check) => `${check.status} ${check.id}: ${check.description ?? ''}`);
  if (!verdictPassed && failures.length === 0) failures.push(`the suite exited with ${code} (see ${path.relative(repoRoot, outputDir)}/suite-output.txt)`);
  return { ...leg, passed: verdictPassed && failed.length === 0 && warned.length === 0 && checks.length > 0, checks: { passed: passedChecks, failed: failed.length, warnings: warned.length }, failures };
}

async function runAll(legs: readonly Leg[], command: string): Promise<LegResult[]> {
  const results: LegResult[] = new Array(legs.length);
  let next = 0;
  const worker = async () => {
    while (next < legs.length) {
      const index = next++;
      const result = await runLeg(legs[index]!, command);
      results[index] = result;
      console.log(`${result.passed ? 'pass' : 'FAIL'}  ${legName(result)}  (${result.checks.passed} passed, ${result.checks.failed} failed, ${result.checks.warnings} warnings)`);
      for (const failure of result.failures) console.log(`        ${failure}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_LEGS }, worker));
  return results;
}

async function main(): Promise<number> {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli.mjs'))) throw new Error('dist/cli.mjs is missing: run npm run build first');
  await ensureSuite();
  const listing = await runSuite(['list', '--client']);
  if (listing.code !== 0) throw new Error(`conformance list failed:\n${listing.output}`);
  const legs = authorizationLegs(listing.output);
  if (legs.length === 0) throw new Error(`conformance list named no authorization scenario:\n${listing.output}`);
  // The adapter runs on this Node (the one people run the command line with), from the repository, where tsx resolves.
  const command = `${process.execPath} --import tsx ${adapter}`;
  console.log(`[conformance] @modelcontextprotocol/conformance@${conformanceVersion}: ${legs.length} client-authorization legs`);
  const results = await runAll(legs, command);
  const passed = results.filter((result) => result.passed).length;
  console.log(`conformance: ${passed}/${results.length} legs (@modelcontextprotocol/conformance@${conformanceVersion})`);
  return passed === results.length ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
