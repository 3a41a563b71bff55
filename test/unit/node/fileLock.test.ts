import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKeyringError } from '../../../src/core/errors';
import { withFileLock } from '../../../src/node/fileLock';
import { makeTempDirectory, removeTempDirectory } from './tempDirectory';

const workerPath = fileURLToPath(new URL('./lockWorker.ts', import.meta.url));

/** Runs lockWorker.ts in a separate Node process and resolves with its exit code. */
function runWorker(lockPath: string, journalPath: string, rounds: number, name: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workerPath, lockPath, journalPath, String(rounds), name], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', resolve);
  });
}

/** A pid that no process has: that of a process that has already exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('error', reject);
    child.once('exit', () => resolve(child.pid!));
  });
}

/** Every `start x` must be followed by `end x` before anyone else starts. */
function assertNoOverlap(journal: string): void {
  const lines = journal.trim().split('\n');
  for (let index = 0; index < lines.length; index += 2) {
    const [start = '', end] = [lines[index], lines[index + 1]];
    assert.match(start, /^start /);
    assert.equal(end, start.replace('start', 'end'), `overlap at line ${index + 1}`);
  }
}

function lockContent(pid: number): string {
  return JSON.stringify({ pid, host: hostname(), createdAt: Date.now(), nonce: 'planted' });
}

describe('withFileLock', () => {
  let directory: string;
  let lockPath: string;

  beforeEach(async () => {
    directory = await makeTempDirectory();
    lockPath = join(directory, 'credential.lock');
  });

  afterEach(async () => {
    await removeTempDirectory(directory);
  });

  it('queues callers in the same process so their work never overlaps, in call order', async () => {
    const events: string[] = [];
    let isHeld = false;
    const work = (name: string) => withFileLock(lockPath, async () => {
      assert.equal(isHeld, false, `${name} entered while the lock was held`);
      isHeld = true;
      events.push(name);
      await new Promise((resolve) => setTimeout(resolve, 3));
      isHeld = false;
      return name;
    });
    assert.deepEqual(await Promise.all(['a', 'b', 'c', 'd'].map(work)), ['a', 'b', 'c', 'd']);
    assert.deepEqual(events, ['a', 'b', 'c', 'd']);
  });

  it('releases the lock file when the work throws, and passes the error on', async () => {
    await assert.rejects(withFileLock(lockPath, () => Promise.reject(new Error('boom'))), /boom/);
    assert.deepEqual(await readdir(directory), []);
    assert.equal(await withFileLock(lockPath, () => Promise.resolve('next')), 'next');
  });

  it('holds a lock file with the holder pid while the work runs', async () => {
    await withFileLock(lockPath, async () => {
      const content = JSON.parse(await readFile(lockPath, 'utf8'));
      assert.equal(content.pid, process.pid);
    });
  });

  it('never lets work in separate processes overlap, even when they start by recovering a stale lock', async function () {
    this.timeout(20_000);
    await writeFile(lockPath, lockContent(await deadPid()));
    const journalPath = join(directory, 'journal');
    const here = (async () => {
      for (let round = 0; round < 10; round += 1) {
        await withFileLock(lockPath, async () => {
          appendFileSync(journalPath, 'start parent\n');
          await new Promise((resolve) => setTimeout(resolve, 2));
          appendFileSync(journalPath, 'end parent\n');
        });
      }
    })();
    const exitCodes = await Promise.all([runWorker(lockPath, journalPath, 10, 'one'), runWorker(lockPath, journalPath, 10, 'two'), here]);
    assert.deepEqual(exitCodes, [0, 0, undefined]);
    const journal = await readFile(journalPath, 'utf8');
    assertNoOverlap(journal);
    assert.equal(journal.trim().split('\n').length, 60);
    assert.deepEqual((await readdir(directory)).sort(), ['journal']);
  });

  it('takes over a lock left by a process that no longer runs, without waiting for it to age', async () => {
    await writeFile(lockPath, lockContent(await deadPid()));
    const started = Date.now();
    assert.equal(await withFileLock(lockPath, () => Promise.resolve('ran'), { timeoutMs: 5_000, staleMs: 60_000 }), 'ran');
    assert.ok(Date.now() - started < 1_000);
  });

  it('takes over a lock whose living holder has not touched it for longer than the stale age', async () => {
    await writeFile(lockPath, lockContent(process.ppid));
    const old = new Date(Date.now() - 10_000);
    await utimes(lockPath, old, old);
    assert.equal(await withFileLock(lockPath, () => Promise.resolve('ran'), { timeoutMs: 2_000, staleMs: 5_000 }), 'ran');
  });

  it('times out with code timeout while a living holder keeps a fresh lock, leaving that lock alone', async () => {
    const held = lockContent(process.ppid);
    await writeFile(lockPath, held);
    await assert.rejects(withFileLock(lockPath, () => Promise.resolve(), { timeoutMs: 150 }), (error: unknown) => isKeyringError(error, 'timeout'));
    assert.equal(await readFile(lockPath, 'utf8'), held);
  });

  it('times out a same-process waiter whose turn does not come, and still runs the callers behind it in order', async () => {
    let finishFirst!: () => void;
    const first = withFileLock(lockPath, () => new Promise<void>((resolve) => (finishFirst = resolve)));
    const second = withFileLock(lockPath, () => Promise.resolve('second'), { timeoutMs: 50 });
    const third = withFileLock(lockPath, () => Promise.resolve('third'));
    await assert.rejects(second, (error: unknown) => isKeyringError(error, 'timeout'));
    finishFirst();
    await first;
    assert.equal(await third, 'third');
  });

  it('keeps touching the lock file while long work runs, so it never looks stale', async () => {
    await withFileLock(lockPath, async () => {
      const old = new Date(Date.now() - 60_000);
      await utimes(lockPath, old, old);
      await new Promise((resolve) => setTimeout(resolve, 80));
      const { mtimeMs } = await stat(lockPath);
      assert.ok(Date.now() - mtimeMs < 1_000);
    }, { staleMs: 60 });
  });
});
