// Writes the README the stores show: README.md without its repository-only blocks (the screenshots, kept in docs/),
// because a store page has no repository to resolve a relative image against and vsce refuses one. `npm run
// package` runs it and hands the result to vsce.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const storeReadmePath = path.join(repoRoot, '.tmp', 'store', 'README.md');

/** Drops every `<!-- repository-only -->` … `<!-- /repository-only -->` block, markers included. */
export function storeReadme(readme: string): string {
  return readme.replace(/<!-- repository-only -->[\s\S]*?<!-- \/repository-only -->\n?/g, '');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(path.dirname(storeReadmePath), { recursive: true });
  writeFileSync(storeReadmePath, storeReadme(readFileSync(path.join(repoRoot, 'README.md'), 'utf8')));
}
