// `npm run demo` in the editor: the demo authorization server and MCP server, and code-server (VS Code 1.139 in a
// browser) with MCP Keyring installed from its .vsix and the demo server already added. Prints the URL to open and
// runs until Ctrl-C, then stops everything it started.
// Usage: node --import tsx scripts/editorDemo.ts [--vsix <file>] [--port <port>]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCodeServer } from '../test/editor/codeServer';
import { ensureEditorToolchain } from '../test/editor/install';
import { installExtension, packageExtension } from '../test/editor/journeys/installedExtension';
import { startJourneyServers } from '../test/editor/journeys/journeyServers';

const { values } = parseArgs({ options: { vsix: { type: 'string' }, port: { type: 'string' } } });
await ensureEditorToolchain();
const vsix = values.vsix ? path.resolve(values.vsix) : await packageExtension();
const servers = await startJourneyServers();
const settings = {
  'mcpKeyring.servers': [{ url: servers.mcpServer.url, label: 'Demo MCP server' }],
  // The demo servers speak plain http on loopback addresses.
  'mcpKeyring.allowInsecureLoopback': true,
  'workbench.startupEditor': 'none',
};
// A remote window reads machine-scoped settings (allowInsecureLoopback) from the server's own settings only.
const codeServer = await startCodeServer({ port: values.port ? Number(values.port) : undefined, userSettings: settings, machineSettings: settings });
await installExtension(codeServer, vsix);

let isStopping = false;
async function stop(): Promise<void> {
  if (isStopping) return;
  isStopping = true;
  console.log('\nStopping…');
  await codeServer.stop();
  await servers.close();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
void codeServer.whenExited.then(() => {
  if (!isStopping) {
    console.error('code-server exited on its own; stopping the demo.');
    void stop();
  }
});

console.log(`
Demo authorization server: ${servers.authorizationServer.issuer} (sign in as "${servers.login}", any password)
Demo MCP server:           ${servers.mcpServer.url}

Open the editor:           ${codeServer.workbenchUrl()}

In the MCP Keyring view (key icon in the activity bar), sign in to "Demo MCP server".
Press Ctrl-C to stop.`);
