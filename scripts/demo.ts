// `npm run demo`: the main job on an embedded default. Starts a local authorization server (oidc-provider) and an
// OAuth-protected MCP server, then runs the real `mcp-keyring` binary against them: sign-in through the browser
// step (played by a scripted browser that logs in as "alice" and consents), the tool list, a tool call, the status.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAuthorizationServer } from '../test/fixtures/authorizationServer';
import { startMcpServer } from '../test/fixtures/mcpServer';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.mjs');
const SCRIPTED_BROWSER = `"${process.execPath}" --import tsx "${join(import.meta.dirname, '..', 'test', 'fixtures', 'testBrowserCli.ts')}"`;

const authorizationServer = await startAuthorizationServer();
const mcpServer = await startMcpServer({ shape: 'path-metadata', authorizationServer });
const store = await mkdtemp(join(tmpdir(), 'mcp-keyring-demo-'));
let failed = false;

console.log(`Demo authorization server: ${authorizationServer.issuer}`);
console.log(`Demo MCP server:           ${mcpServer.url}\n`);
try {
  for (const args of [
    ['tools', mcpServer.url],
    ['call', mcpServer.url, 'echo', '--args', '{"text":"Hello from MCP Keyring"}'],
    ['status', mcpServer.url],
  ]) {
    console.log(`$ mcp-keyring ${args.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg)).join(' ')}`);
    const code = await runCli([...args, '--store', store, '--browser', SCRIPTED_BROWSER]);
    console.log('');
    if (code !== 0) {
      failed = true;
      break;
    }
  }
} finally {
  await rm(store, { recursive: true, force: true });
  await mcpServer.close();
  await authorizationServer.close();
}
process.exitCode = failed ? 1 : 0;

function runCli(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
