// The built command line (dist/cli.mjs) in its own process, as a terminal or a CI job runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const CLI_PATH = path.resolve(import.meta.dirname, '../../dist/cli.mjs');
const CLI_SOURCE = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
}

/**
 * Starts the built command line, or with `fromSource` its TypeScript source (tests then need no fresh build; the
 * bench measures what ships).
 */
export function startCli(args: readonly string[], { fromSource = false } = {}): RunningCli {
  const entry = fromSource ? ['--import', 'tsx', CLI_SOURCE] : [CLI_PATH];
  const child = spawn(process.execPath, [...entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}
