// A fresh directory under the OS temp dir per test, removed afterwards, so tests never see each other's files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function makeTempDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mcp-keyring-node-'));
}

export async function removeTempDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
}
