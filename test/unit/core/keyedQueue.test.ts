import assert from 'node:assert/strict';
import { KeyringError, isKeyringError } from '../../../src/core/errors';
import { KeyedQueue } from '../../../src/core/keyedQueue';
import { deferred, FakeTime } from './fakes';

const timeout = () => new KeyringError('timeout', 'waited too long');

describe('KeyedQueue', () => {
  it('runs work on one key one at a time, in the order it was queued, and other keys alongside', async () => {
    const time = new FakeTime();
    const queue = new KeyedQueue(time, time);
    const gate = deferred();
    const order: string[] = [];
    const first = queue.run('a', time.now() + 1_000, timeout, async () => { order.push('a1 start'); await gate.promise; order.push('a1 end'); });
    const second = queue.run('a', time.now() + 1_000, timeout, () => Promise.resolve(order.push('a2')));
    const other = queue.run('b', time.now() + 1_000, timeout, () => Promise.resolve(order.push('b')));
    await other;
    await time.advance(0);
    assert.deepEqual(order, ['a1 start', 'b']);
    gate.resolve();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('gives up at the deadline with the caller\'s error, and the caller after it still waits for the first', async () => {
    const time = new FakeTime();
    const queue = new KeyedQueue(time, time);
    const gate = deferred();
    const order: string[] = [];
    const first = queue.run('a', time.now() + 10_000, timeout, async () => { await gate.promise; order.push('first'); });
    const impatient = queue.run('a', time.now() + 100, timeout, () => Promise.resolve(order.push('impatient')));
    const patient = queue.run('a', time.now() + 10_000, timeout, () => Promise.resolve(order.push('patient')));
    await time.advance(100);
    await assert.rejects(impatient, (error) => isKeyringError(error, 'timeout'));
    assert.deepEqual(order, []);
    gate.resolve();
    await Promise.all([first, patient]);
    assert.deepEqual(order, ['first', 'patient']);
    assert.equal(time.pendingTimers, 0, 'no deadline timer is left behind');
  });
});
