// Whether a credential directory is the user's alone: another user who can write to it or to any directory above it
// could swap the directory, or the records in it, for their own (another refresh token, another DPoP key).
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KeyringError, platformErrorCode } from '../core/errors';

const WRITABLE_BY_GROUP_OR_OTHERS = 0o022;
const WRITABLE_BY_OTHERS = 0o002;
const STICKY = 0o1000;
const ROOT_UID = 0;

/**
 * Refuses the directory if it is a symbolic link, not owned by the user, or writable by group or others; and if any
 * directory above it, on the path as written and on the path the links lead to, is owned by someone other than the
 * user or root, or writable by others or by a group other than the user's own, without the sticky bit (which keeps
 * /tmp's entries their owners'). The user's own group is allowed above the store: with user private groups (Debian,
 * Ubuntu, Fedora) the usual umask 002 leaves ~/.config writable by a group only the user is in.
 * A directory that does not exist yet passes: it is created private. POSIX only: Windows has no such modes.
 */
export async function assertPrivateDirectory(directory: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const own = await statOrUndefined(directory, lstat);
  if (own) {
    if (own.isSymbolicLink()) throw refused(`${directory} is a symbolic link`);
    if (own.uid !== uid) throw refused(`${directory} is owned by another user`);
    if (own.mode & WRITABLE_BY_GROUP_OR_OTHERS) throw refused(`${directory} is writable by group or others`, `chmod 700 ${directory}`);
  }
  const written = ancestors(directory);
  const existing = await firstExisting(written);
  const resolved = existing === undefined ? [] : [existing, ...ancestors(await realpath(existing))];
  for (const parent of new Set([...written, ...resolved])) {
    const parentStats = await statOrUndefined(parent, stat);
    if (!parentStats) continue;
    if (parentStats.uid !== uid && parentStats.uid !== ROOT_UID) throw refused(`${parent} (above ${directory}) is owned by another user`);
    const writableByOthers = parentStats.mode & (parentStats.gid === process.getgid?.() ? WRITABLE_BY_OTHERS : WRITABLE_BY_GROUP_OR_OTHERS);
    if (writableByOthers && !(parentStats.mode & STICKY)) throw refused(`${parent} (above ${directory}) is writable by group or others`, `chmod go-w ${parent}`);
  }
}

/** Every directory above `path`, nearest first, up to the root. */
function ancestors(path: string): string[] {
  const found: string[] = [];
  for (let current = dirname(path); !found.includes(current); current = dirname(current)) found.push(current);
  return found;
}

async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    if (await statOrUndefined(path, stat)) return path;
  }
  return undefined;
}

async function statOrUndefined(path: string, read: (path: string) => Promise<Stats>): Promise<Stats | undefined> {
  try {
    return await read(path);
  } catch (error) {
    if (platformErrorCode(error) === 'ENOENT') return undefined;
    throw new KeyringError('store_failed', `could not inspect ${path} (${platformErrorCode(error) ?? 'unknown error'})`, { cause: error });
  }
}

function refused(why: string, remedy = 'choose another store directory'): KeyringError {
  return new KeyringError('store_failed', `refusing the credential directory: ${why}; others could swap the credentials in it (${remedy})`);
}
