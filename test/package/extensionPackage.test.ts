// The extension as the Marketplace and Open VSX take it: `npm run package` writes a .vsix with no warning from vsce,
// holding only what the extension runs on and the documents the stores show, and ovsx accepts it for publishing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isLicenseOk } from 'ovsx';
import { repoRoot } from '../editor/paths';
import { run, runNpm } from './packageTools';

interface Manifest {
  publisher: string;
  name: string;
  version: string;
  icon?: string;
  galleryBanner?: { color?: string; theme?: string };
  extensionKind?: string[];
  dependencies?: Record<string, string>;
}

const manifest = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
const ovsx = path.join(repoRoot, 'node_modules', '.bin', 'ovsx');
const storeReadme = '.tmp/store/README.md';

/** A PNG's width and height, from its IHDR chunk (PNG spec §11.2.2), after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Lines a tool printed as a warning (vsce: " WARNING ", ovsx: "!!", npm: "npm warn"). */
function warnings(output: string): string[] {
  return output.split('\n').filter((line) => /\bWARN(ING)?\b|^!!/i.test(line));
}

describe('the extension as the stores publish it', function () {
  this.timeout(180_000);
  let workDir: string;
  let vsix: string;

  before(async function () {
    workDir = await mkdtemp(path.join(tmpdir(), 'mcp-keyring-vsix-'));
    vsix = path.join(workDir, `${manifest.name}-${manifest.version}.vsix`);
    const packaged = await runNpm(['run', 'package', '--', '--out', vsix]);
    assert.deepEqual(warnings(packaged.stdout + packaged.stderr), [], 'vsce warned while packaging');
  });
  after(async function () {
    await rm(workDir, { recursive: true, force: true });
  });

  it('packs only the bundle, media, manifest and documents: no source, source map or test', async function () {
    const { stdout } = await run(vsce, ['ls', '--no-dependencies', '--readme-path', storeReadme]);
    assert.deepEqual(stdout.split('\n').filter(Boolean).sort(), [
      '.tmp/store/README.md', 'CHANGELOG.md', 'LICENSE',
      'dist/extension.cjs',
      'media/client-metadata.json', 'media/icon.png', 'media/keyring.svg',
      'media/walkthrough/accounts.md', 'media/walkthrough/addServer.md', 'media/walkthrough/signIn.md', 'media/walkthrough/useTools.md',
      'package.json', 'package.nls.json',
    ]);
  });

  it('has a 128×128 PNG icon and a gallery banner', async function () {
    assert.equal(manifest.icon, 'media/icon.png');
    assert.deepEqual(pngSize(await readFile(path.join(repoRoot, manifest.icon))), { width: 128, height: 128 });
    assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.ok(manifest.galleryBanner?.theme === 'dark' || manifest.galleryBanner?.theme === 'light');
  });

  it('runs in the workspace extension host, where the relay has Node', function () {
    assert.deepEqual(manifest.extensionKind, ['workspace']);
  });

  it('ships a README whose images and links still work on a store page: none is relative', async function () {
    // The README without its repository-only blocks (the screenshots), which `npm run package` hands to vsce.
    const readme = await readFile(path.join(repoRoot, storeReadme), 'utf8');
    const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)].map((match) => match[1]!);
    assert.deepEqual(targets.filter((target) => !/^(https:|#)/.test(target)), []);
  });

  it('is accepted by ovsx for Open VSX, in a dry run against a stand-in registry on loopback', async function () {
    // Open VSX refuses an extension without a license; this is the check ovsx makes before packaging.
    assert.equal(await isLicenseOk(repoRoot), true);
    const registry = await startStandInRegistry();
    try {
      const published = await run(ovsx, ['publish', vsix, '--registryUrl', registry.url, '--pat', 'dry-run-token']);
      assert.deepEqual(warnings(published.stdout + published.stderr), []);
      assert.match(published.stdout, new RegExp(`Published ${manifest.publisher}\\.${manifest.name} v${manifest.version}`));
      assert.deepEqual(registry.uploads, [await readFile(vsix)]);
    } finally {
      registry.server.close();
    }
  });
});

/**
 * Answers ovsx's upload (POST /api/-/publish) as Open VSX does when it accepts one, and keeps what it was sent.
 * Open VSX checks the package's manifest on its side; the tests above check the same fields.
 */
async function startStandInRegistry(): Promise<{ server: Server; url: string; uploads: Buffer[] }> {
  const uploads: Buffer[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || !request.url?.startsWith('/api/-/publish')) {
        response.writeHead(404).end();
        return;
      }
      uploads.push(Buffer.concat(chunks));
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ namespace: manifest.publisher, name: manifest.name, version: manifest.version, targetPlatform: 'universal' }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, uploads, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
