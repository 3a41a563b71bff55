// `npm run demo` as the README's quick start tells a person to run it, on this Linux machine without desktop VS Code:
// it prints the demo servers and an editor address, the address serves the workbench, and Ctrl-C stops everything.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../editor/paths';
import { withoutNpmRunVariables } from '../editor/install';

/** The command `npm run demo` runs, without npm in between, so the demo's own exit status is what the test sees. */
async function demoCommand(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: { demo: string } };
  const [program, ...args] = manifest.scripts.demo.split(' ');
  assert.equal(program, 'node');
  return [process.execPath, ...args];
}

describe('npm run demo on Linux without VS Code installed', function () {
  this.timeout(240_000);

  it('opens code-server with the demo server added, and stops on Ctrl-C', async function () {
    const [program, ...args] = await demoCommand();
    const demo = spawn(program!, args, { cwd: repoRoot, env: withoutNpmRunVariables(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const workbenchUrl = await new Promise<string>((resolve, reject) => {
      demo.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /Open the editor: +(http\S+)/.exec(output);
        if (found) resolve(found[1]!);
      });
      demo.once('exit', (code) => reject(new Error(`npm run demo exited with ${code} before printing the editor's address:\n${output}`)));
    });
    try {
      assert.match(output, /Demo authorization server: http:\/\/127\.0\.0\.2:\d+ \(sign in as "alice", any password\)/);
      assert.match(output, /Demo MCP server: +http:\/\/127\.0\.0\.1:\d+\/mcp/);
      // The tests' browser is a Debian package; the demo needs none, so it never runs apt-get.
      assert.doesNotMatch(output, /Debian packages/);
      const page = await fetch(workbenchUrl, { signal: AbortSignal.timeout(30_000) });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    } finally {
      const exited = once(demo, 'exit');
      demo.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, output);
    }
    await assert.rejects(fetch(workbenchUrl, { signal: AbortSignal.timeout(5_000) }), 'code-server still answers after the demo stopped');
  });
});
