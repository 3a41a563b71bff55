// Bundles the CLI (ESM, Node) and, once it exists, the extension entry (CommonJS, as VS Code loads it).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli.mjs',
  format: 'esm',
  banner: {
    // Bundled CommonJS dependencies call require(); give them one inside the ESM bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __keyringCreateRequire } from 'node:module';\nconst require = __keyringCreateRequire(import.meta.url);",
  },
});

if (existsSync('src/extension.ts')) {
  await build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.cjs', format: 'cjs', external: ['vscode'] });
}
