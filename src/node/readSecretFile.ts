// Reads a secret the user keeps in a file (a private key, an assertion, an ID token): small, text, never echoed.
import { open } from 'node:fs/promises';
import { KeyringError, platformErrorCode } from '../core/errors';

/** Keys, assertions and ID tokens are a few KiB at most; anything larger is the wrong file. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export async function readSecretFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new KeyringError('usage', `cannot read ${path} (${platformErrorCode(error) ?? 'unreadable'})`);
  }
  try {
    const buffer = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_SECRET_FILE_BYTES) throw new KeyringError('usage', `${path} is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB; it is not a key or token file`);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
