// Bundles the in-editor suite (test/editor/suite) to CommonJS in out/editor/, as the extension host loads it:
// one file per test file plus index.cjs, with `vscode` left to the extension host and mocha bundled in. No source
// maps: the extension host installs its own Error.prepareStackTrace, so traces point at the readable .cjs files.
import { build, type BuildOptions } from 'esbuild';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { suiteOutDir, suiteSourceDir } from './paths';

export interface SuiteBuildOptions {
  /** The test files to bundle beside the runner; every *.test.ts of the suite folder by default. */
  readonly testFiles?: readonly string[];
  /** Where the bundles go; out/editor/ by default. */
  readonly outDir?: string;
}

/** How code for the extension host is bundled: CommonJS for Node, `vscode` left to the extension host. */
export const extensionHostBundle: BuildOptions = { bundle: true, platform: 'node', format: 'cjs', target: 'node22', external: ['vscode'], logLevel: 'warning' };

export async function buildEditorSuite(options: SuiteBuildOptions = {}): Promise<string> {
  const testFiles = options.testFiles ?? readdirSync(suiteSourceDir).filter((name) => name.endsWith('.test.ts')).map((name) => path.join(suiteSourceDir, name));
  const outDir = options.outDir ?? suiteOutDir;
  await rm(outDir, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(suiteSourceDir, 'index.ts'), ...testFiles],
    outdir: outDir,
    // Flat, wherever the test files live: the runner loads every *.test.cjs beside index.cjs.
    entryNames: '[name]',
    outExtension: { '.js': '.cjs' },
    ...extensionHostBundle,
    // Mocha's parallel mode resolves worker files at run time; the suite runs serially and never loads them.
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
  return path.join(outDir, 'index.cjs');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  console.log(`[buildSuite] ${path.relative(process.cwd(), await buildEditorSuite())}`);
}
