// The command line as npm publishes it: `npm pack` makes a tarball that installs into an empty global prefix with no
// network and no build step (the bundle carries its dependencies), and the installed `mcp-keyring` runs.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer } from '../fixtures/mcpServer';
import { run, runNpm, tarballEntries } from './packageTools';

const manifest = (await import('../../package.json', { with: { type: 'json' } })).default;

describe('the command line as npm publishes it', function () {
  this.timeout(180_000);
  let workDir: string;
  let tarball: string;
  let installedCli: string;

  before(async function () {
    workDir = await mkdtemp(path.join(tmpdir(), 'mcp-keyring-pack-'));
    // prepack builds the bundle, so this is what `npm publish` would upload.
    await runNpm(['pack', '--pack-destination', workDir]);
    const [name] = (await readdir(workDir)).filter((file) => file.endsWith('.tgz'));
    assert.ok(name, 'npm pack wrote no tarball');
    tarball = path.join(workDir, name);
    const prefix = path.join(workDir, 'prefix');
    // --offline: installing must need nothing from the registry, so the package may declare no dependency.
    await runNpm(['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball]);
    installedCli = process.platform === 'win32' ? path.join(prefix, 'mcp-keyring.cmd') : path.join(prefix, 'bin', 'mcp-keyring');
  });
  after(async function () {
    await rm(workDir, { recursive: true, force: true });
  });

  it('holds the bundle and the documents, and no source, source map or test', async function () {
    assert.deepEqual(await tarballEntries(tarball), [
      'CHANGELOG.md', 'LICENSE', 'README.md',
      'dist/cli.mjs',
      // npm always packs the file `main` names: here the extension's bundle.
      'dist/extension.cjs',
      'package.json',
    ]);
  });

  it('declares no runtime dependency, since the bundle is self-contained', function () {
    assert.equal((manifest as { dependencies?: object }).dependencies, undefined);
    assert.equal((manifest as { private?: boolean }).private, undefined);
  });

  it('runs mcp-keyring --version and --help from the installed package', async function () {
    assert.equal((await run(installedCli, ['--version'])).stdout, `mcp-keyring ${manifest.version}\n`);
    assert.match((await run(installedCli, ['--help'])).stdout, /^Usage: mcp-keyring <command> \[options\]/);
  });

  it('runs mcp-keyring diagnose from the installed package against a fixture server', async function () {
    const as = await startAuthorizationServer();
    const mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
    try {
      const store = path.join(workDir, 'store');
      const { stdout } = await run(installedCli, ['diagnose', mcp.url, '--json', '--store', store, '--timeout', '10']);
      const report = JSON.parse(stdout) as { discovery: { authorizationServer: { issuer: string } } };
      assert.equal(report.discovery.authorizationServer.issuer, as.issuer);
    } finally {
      await mcp.close();
      await as.close();
    }
  });
});
