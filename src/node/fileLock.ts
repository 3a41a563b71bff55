// A lock on one path that holds across processes (an O_EXCL lock file) and within this process (a promise chain),
// so that two CLI runs, or a CLI run and an editor window, never refresh the same credential at once.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { KeyringError, platformErrorCode, shortErrorCode } from '../core/errors';
import { KeyedQueue } from '../core/keyedQueue';

export interface FileLockOptions {
  /** How long to wait for the lock before failing with `timeout`. Default 30 s. */
  timeoutMs?: number;
  /** A lock file whose holder has not touched it for this long is taken over. Default 60 s. */
  staleMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_STALE_MS = 60_000;
const FIRST_RETRY_MS = 5;
const LONGEST_RETRY_MS = 100;

/** Same-process callers per lock path wait on each other rather than polling the file. */
const queue = new KeyedQueue();

/** Runs `work` while holding the lock at `lockPath`; the lock is released when `work` settles. */
export function withFileLock<T>(lockPath: string, work: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const path = resolve(lockPath);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + timeoutMs;
  return queue.run(path, deadline, () => timeoutError(path), async () => {
    const held = await acquireLockFile(path, deadline, staleMs);
    const heartbeat = startHeartbeat(path, staleMs);
    try {
      return await work();
    } finally {
      clearInterval(heartbeat);
      await releaseLockFile(path, held);
    }
  });
}

/** What a lock file says about its holder; `nonce` tells two locks from the same pid apart. */
interface LockContent {
  pid: number;
  host: string;
  createdAt: number;
  nonce: string;
}

async function acquireLockFile(path: string, deadline: number, staleMs: number): Promise<string> {
  const content = JSON.stringify({ pid: process.pid, host: hostname(), createdAt: Date.now(), nonce: randomBytes(8).toString('hex') } satisfies LockContent);
  let delay = FIRST_RETRY_MS;
  for (;;) {
    if (await tryCreate(path, content)) return content;
    if (await removeIfStale(path, staleMs)) continue;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutError(path);
    // Jitter keeps processes that started waiting together from retrying in lockstep.
    await sleep(Math.min(remaining, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, LONGEST_RETRY_MS);
  }
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (platformErrorCode(error) === 'EEXIST') return false;
    throw new KeyringError('store_failed', `could not create the lock file ${path} (${shortErrorCode(error)})`, { cause: error });
  }
  try {
    await handle.writeFile(content);
    await handle.close();
  } catch (error) {
    // An empty lock file would block everyone until it aged out.
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw new KeyringError('store_failed', `could not write the lock file ${path} (${shortErrorCode(error)})`, { cause: error });
  }
  return true;
}

/**
 * Takes over a lock whose holder is gone (its process no longer runs) or silent for longer than `staleMs`.
 * Two waiters may judge the same file stale; each renames it to a unique name first, so only one of them gets
 * it, and the winner checks that what it renamed is still the file it judged (a fresh lock created in between
 * is put back). Returns true when the caller should try to create the lock again right away.
 */
async function removeIfStale(path: string, staleMs: number): Promise<boolean> {
  const judged = await inspect(path);
  if (judged === undefined) return true;
  if (!isStale(judged, staleMs)) return false;
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    // Anything but "already gone" (Windows says EPERM/EBUSY while another process reads it): retry later.
    return platformErrorCode(error) === 'ENOENT';
  }
  const taken = await inspect(aside);
  if (taken !== undefined && (taken.ino !== judged.ino || taken.text !== judged.text)) {
    // A live holder's lock slipped in between the check and the rename: give it back untouched.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

interface LockFileState {
  ino: number;
  modifiedAt: number;
  text: string;
}

async function inspect(path: string): Promise<LockFileState | undefined> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    return { ino: info.ino, modifiedAt: info.mtimeMs, text };
  } catch (error) {
    if (platformErrorCode(error) === 'ENOENT') return undefined;
    throw new KeyringError('store_failed', `could not read the lock file ${path} (${shortErrorCode(error)})`, { cause: error });
  }
}

function isStale(state: LockFileState, staleMs: number): boolean {
  if (Date.now() - state.modifiedAt > staleMs) return true;
  const content = parseLockContent(state.text);
  // An unreadable file is a lock being written right now (or a crash mid-write, which the age check catches).
  if (content === undefined || content.host !== hostname()) return false;
  return !isProcessAlive(content.pid);
}

function parseLockContent(text: string): LockContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    return typeof value.pid === 'number' && typeof value.host === 'string' ? (value as LockContent) : undefined;
  } catch {
    return undefined;
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return platformErrorCode(error) === 'EPERM';
  }
}

/** Touches the lock file while work runs, so a long sign-in is never mistaken for a dead holder. */
function startHeartbeat(path: string, staleMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, Math.max(1, Math.floor(staleMs / 3)));
  timer.unref();
  return timer;
}

/** Removes the lock file only if it is still ours: after a takeover it belongs to someone else. */
async function releaseLockFile(path: string, held: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === held) await unlink(path).catch(() => undefined);
}

function timeoutError(path: string): KeyringError {
  return new KeyringError('timeout', `timed out waiting for the lock ${path}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
