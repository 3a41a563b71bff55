import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EXIT_OK, EXIT_USAGE, runCli } from '../../../src/cli/runCli';

const manifestVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: {} });
  return { code, stdout, stderr };
}

describe('the command line\'s --help and --version', () => {
  it('prints "mcp-keyring <version>" on stdout for --version and exits 0', async () => {
    assert.deepEqual(await run(['--version']), { code: EXIT_OK, stdout: `mcp-keyring ${manifestVersion}\n`, stderr: '' });
  });

  for (const argv of [['--help'], ['-h'], ['help'], ['tools', '--help']]) {
    it(`prints the usage on stdout and exits 0 for ${argv.join(' ')}`, async () => {
      const result = await run(argv);
      assert.equal(result.code, EXIT_OK);
      assert.match(result.stdout, /^Usage: mcp-keyring <command> \[options\]/);
      assert.match(result.stdout, /--version +show the version/);
      assert.equal(result.stderr, '');
    });
  }

  it('with no arguments prints the usage on stderr, as a usage error, and exits 2', async () => {
    const result = await run([]);
    assert.equal(result.code, EXIT_USAGE);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^Usage: mcp-keyring <command> \[options\]/);
  });
});
