// Bundles the in-editor suite (test/editor/suite) to CommonJS in out/editor/, as the extension host loads it:
// one file per test file plus index.cjs, with `vscode` left to the extension host and mocha bundled in. No source
// maps: the extension host installs its own Error.prepareStackTrace, so traces point at the readable .cjs files.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { suiteEntry, suiteOutDir, suiteSourceDir } from './paths';

export async function buildEditorSuite(): Promise<string> {
  const testFiles = readdirSync(suiteSourceDir).filter((name) => name.endsWith('.test.ts'));
  await rm(suiteOutDir, { recursive: true, force: true });
  await build({
    entryPoints: ['index.ts', ...testFiles].map((name) => path.join(suiteSourceDir, name)),
    outdir: suiteOutDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['vscode'],
    logLevel: 'warning',
    // Mocha's parallel mode resolves worker files at run time; the suite runs serially and never loads them.
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
  return suiteEntry;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  console.log(`[buildSuite] ${path.relative(process.cwd(), await buildEditorSuite())}`);
}
