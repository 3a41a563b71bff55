// Where the real-editor tests keep things: the repository they test, the ignored cache the installer fills,
// the compiled in-editor suite and the screenshots the journeys save.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const codeServerVersion = '4.139.1';
/** code-server 4.139.1 refuses any other major (its postinstall checks) and builds its native modules against it. */
export const nodeVersion = '24.21.0';
export const chromiumPath = '/usr/bin/chromium';

/** Ignored by git; survives between runs on one machine so the slow install happens once. */
export const cacheDir = path.join(repoRoot, '.vscode-test');
export const nodeInstallDir = path.join(cacheDir, `node-${nodeVersion}`);
/** The `node` npm package fetches the platform package, which holds `bin/node` and `include/node` (the headers). */
export const nodeHome = path.join(nodeInstallDir, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
export const nodeBinary = path.join(nodeHome, 'bin', 'node');
export const codeServerInstallDir = path.join(cacheDir, `code-server-${codeServerVersion}`);
export const codeServerHome = path.join(codeServerInstallDir, 'node_modules', 'code-server');
export const codeServerEntry = path.join(codeServerHome, 'out', 'node', 'entry.js');

/**
 * Where @vscode/test-electron keeps the desktop VS Code it downloads: apart from the code-server cache, which a
 * worktree may share with another checkout.
 */
export const desktopCacheDir = path.join(repoRoot, '.vscode-test-desktop');
/** The desktop VS Code the suite targets: the release code-server 4.139.1 bundles. */
export const desktopVsCodeVersion = '1.139.1';

/** The in-editor suite, bundled to CommonJS for the extension host (out/ is ignored by git). */
export const suiteSourceDir = path.join(repoRoot, 'test', 'editor', 'suite');
export const suiteOutDir = path.join(repoRoot, 'out', 'editor');

/** Screenshots and logs that runs leave for people to look at. */
export const resultsDir = path.join(repoRoot, 'test', 'editor', 'results');
