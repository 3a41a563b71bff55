// The CLI's KeyringStore: one private JSON file per key in a 0700 directory, each written atomically, so a crash
// mid-write never leaves a half-written refresh token and other users on the machine cannot read any of it.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, posix, resolve, win32 } from 'node:path';
import { KeyringError, platformErrorCode } from '../core/errors';
import type { KeyringStore } from '../core/ports';
import { type FileLockOptions, withFileLock } from './fileLock';
import { assertPrivateDirectory } from './privateDirectory';

const APP_DIRECTORY = 'mcp-keyring';
const DIRECT_PREFIX = 'k-';
const HASHED_PREFIX = 'h-';
const RECORD_SUFFIX = '.json';
const LOCK_SUFFIX = '.lock';
const TEMP_PREFIX = '.tmp-';
/** Keys up to this many UTF-8 bytes are hex-encoded into the file name; longer ones are hashed (names stay < 255 bytes). */
const LONGEST_DIRECT_KEY_BYTES = 100;

/** What a record file holds: the key travels with the value so hashed file names can be listed. */
interface RecordFile {
  key: string;
  value: string;
}

export class FileStore implements KeyringStore {
  private constructor(
    readonly directory: string,
    private readonly lockOptions: FileLockOptions,
  ) {}

  /** Opens (creating if needed) the store directory, making sure only the current user can enter or change it. */
  static async open(directory: string, lockOptions: FileLockOptions = {}): Promise<FileStore> {
    const absolute = resolve(directory);
    await assertPrivateDirectory(absolute);
    try {
      await mkdir(absolute, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing directory's mode alone, and the umask may have loosened a new one.
      if (process.platform !== 'win32') await chmod(absolute, 0o700);
    } catch (error) {
      throw storeFailed(`could not create the credential directory ${absolute}`, error);
    }
    return new FileStore(absolute, lockOptions);
  }

  async get(key: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.recordPath(key), 'utf8');
    } catch (error) {
      if (platformErrorCode(error) === 'ENOENT') return undefined;
      throw storeFailed(`could not read a record in ${this.directory}`, error);
    }
    const record = parseRecord(text);
    if (record?.key !== key) throw storeFailed(`a record in ${this.directory} is unreadable`);
    return record.value;
  }

  async set(key: string, value: string): Promise<void> {
    const text = JSON.stringify({ key, value } satisfies RecordFile);
    const temporary = join(this.directory, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await writeDurably(temporary, text);
      await rename(temporary, this.recordPath(key));
      await syncDirectory(this.directory);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw storeFailed(`could not write a record in ${this.directory}`, error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.recordPath(key));
    } catch (error) {
      if (platformErrorCode(error) !== 'ENOENT') throw storeFailed(`could not delete a record in ${this.directory}`, error);
    }
  }

  async keys(prefix: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      throw storeFailed(`could not list ${this.directory}`, error);
    }
    const keys = await Promise.all(names.map((name) => this.keyOf(name)));
    return keys.filter((key): key is string => key !== undefined && key.startsWith(prefix)).sort();
  }

  withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.directory, `${fileBaseName(key)}${LOCK_SUFFIX}`), work, this.lockOptions);
  }

  private recordPath(key: string): string {
    return join(this.directory, `${fileBaseName(key)}${RECORD_SUFFIX}`);
  }

  /** The key a directory entry stores, or undefined for anything that is not a record (locks, temp files). */
  private async keyOf(name: string): Promise<string | undefined> {
    if (!name.endsWith(RECORD_SUFFIX)) return undefined;
    const base = name.slice(0, -RECORD_SUFFIX.length);
    if (base.startsWith(DIRECT_PREFIX)) return decodeDirect(base.slice(DIRECT_PREFIX.length));
    if (!base.startsWith(HASHED_PREFIX)) return undefined;
    // A hashed name cannot be decoded; the record carries its key. It may vanish between readdir and read.
    const text = await readFile(join(this.directory, name), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseRecord(text)?.key;
  }
}

/**
 * The OS's per-user configuration directory for MCP Keyring. Parameters default to this machine; tests pass others.
 */
export function defaultStoreDirectory(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (platform === 'win32') return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), APP_DIRECTORY);
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', APP_DIRECTORY);
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const xdg = env.XDG_CONFIG_HOME;
  return posix.join(xdg && posix.isAbsolute(xdg) ? xdg : posix.join(home, '.config'), APP_DIRECTORY);
}

/**
 * File names are lower-case hex of the key, which survives case-insensitive file systems (base64 would not)
 * and any character a key may hold; keys too long for that are named by their SHA-256.
 */
function fileBaseName(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length <= LONGEST_DIRECT_KEY_BYTES) return `${DIRECT_PREFIX}${bytes.toString('hex')}`;
  return `${HASHED_PREFIX}${createHash('sha256').update(bytes).digest('hex')}`;
}

function decodeDirect(hex: string): string | undefined {
  return /^(?:[0-9a-f]{2})*$/.test(hex) ? Buffer.from(hex, 'hex').toString('utf8') : undefined;
}

function parseRecord(text: string): RecordFile | undefined {
  try {
    const record = JSON.parse(text) as Partial<RecordFile>;
    return typeof record.key === 'string' && typeof record.value === 'string' ? (record as RecordFile) : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the file private from its first byte and flushes it to disk before it is renamed into place. */
async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the rename itself survive a power cut; Windows cannot open directories for this, and needs no help. */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function storeFailed(message: string, cause?: unknown): KeyringError {
  const code = platformErrorCode(cause);
  return new KeyringError('store_failed', code ? `${message} (${code})` : message, { cause });
}
