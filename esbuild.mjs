// Bundles the CLI (ESM, Node) and, once it exists, the extension entry (CommonJS, as VS Code loads it).
// `node esbuild.mjs --watch` (npm run watch) rebuilds both on every change, for F5 in VS Code.
import { context } from 'esbuild';
import { existsSync } from 'node:fs';

const isWatching = process.argv.includes('--watch');

/**
 * The lines .vscode/tasks.json's problem matcher waits for: a rebuild started, and it ended with its errors. Both
 * bundles share one count, so "finished" means neither is still building.
 */
let buildsRunning = 0;
const watchReport = {
  name: 'watch-report',
  setup(build) {
    build.onStart(() => {
      if (buildsRunning++ === 0) console.log('[watch] build started');
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) console.error(`✘ [ERROR] ${text}\n    ${location?.file}:${location?.line}:${location?.column}:`);
      if (--buildsRunning === 0) console.log('[watch] build finished');
    });
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning', plugins: isWatching ? [watchReport] : [] };

const builds = [{
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli.mjs',
  format: 'esm',
  banner: {
    // Bundled CommonJS dependencies call require(); give them one inside the ESM bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __keyringCreateRequire } from 'node:module';\nconst require = __keyringCreateRequire(import.meta.url);",
  },
}];
if (existsSync('src/extension.ts')) {
  builds.push({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.cjs',
    format: 'cjs',
    external: ['vscode'],
    // The extension host defines a global `navigator` whose getter reports an error to the window on every read, and
    // oauth4webapi reads it once as it loads to pick its User-Agent: that report (an error with its stack, serialized
    // for the main thread) cost tens of milliseconds of every activation (issue #15). In the extension host it is
    // Node, so it gets what Node gives: no navigator, oauth4webapi's own User-Agent.
    define: { navigator: 'undefined' },
    // VS Code counts compiling the bundle in the extension's activation time (issue #15): whitespace and syntax
    // minification cut a quarter of its bytes. Identifiers keep their names, which errors and logs show.
    minifyWhitespace: true,
    minifySyntax: true,
  });
}

const contexts = await Promise.all(builds.map((options) => context(options)));
if (isWatching) {
  await Promise.all(contexts.map((built) => built.watch()));
} else {
  await Promise.all(contexts.map((built) => built.rebuild()));
  await Promise.all(contexts.map((built) => built.dispose()));
}
