// The demo's servers: the oidc-provider authorization server and the OAuth-protected MCP server the journeys use,
// and the editor settings that name them. Run directly, as F5's pre-launch task does, it also writes those settings
// into the throwaway profile .vscode/launch.json opens, then runs until stopped.
// Usage: node --import tsx scripts/demoServers.ts
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startJourneyServers, type JourneyServers } from '../test/editor/journeys/journeyServers';
import { repoRoot } from '../test/editor/paths';

/** The profile "Run Extension" in .vscode/launch.json starts the development window with. */
export const launchProfileDir = path.join(repoRoot, '.tmp', 'run-extension');

export interface DemoServers {
  readonly servers: JourneyServers;
  /** The editor settings that add the demo server; a local window takes machine-scoped ones from these too. */
  readonly settings: Readonly<Record<string, unknown>>;
}

export async function startDemoServers(): Promise<DemoServers> {
  const servers = await startJourneyServers();
  const settings = {
    'mcpKeyring.servers': [{ url: servers.mcpServer.url, label: 'Demo MCP server' }],
    // The demo servers speak plain http on loopback addresses.
    'mcpKeyring.allowInsecureLoopback': true,
    'workbench.startupEditor': 'none',
  };
  return { servers, settings };
}

export async function writeUserSettings(userDataDir: string, settings: Readonly<Record<string, unknown>>): Promise<void> {
  await mkdir(path.join(userDataDir, 'User'), { recursive: true });
  await writeFile(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

export function describeDemoServers({ servers }: DemoServers): string {
  return `Demo authorization server: ${servers.authorizationServer.issuer} (sign in as "${servers.login}", any password)
Demo MCP server:           ${servers.mcpServer.url}`;
}

/** Stops the servers, once, on Ctrl-C or SIGTERM (what VS Code sends when it terminates a task). */
export function stopOnSignal(stop: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const demo = await startDemoServers();
  await writeUserSettings(path.join(launchProfileDir, 'user-data'), demo.settings);
  stopOnSignal(async () => {
    await demo.servers.close();
    process.exit(0);
  });
  // .vscode/tasks.json waits for this line before F5 opens the development window.
  console.log(`${describeDemoServers(demo)}\nDemo servers ready.`);
}
