import assert from 'node:assert/strict';
import { isKeyringError } from '../../../src/core/errors';
import { resolveHost } from '../../../src/node/resolveHost';

describe('resolveHost', () => {
  const literals: [string, string][] = [
    ['192.0.2.10', '192.0.2.10'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['[2001:db8::5]', '2001:db8::5'],
  ];
  for (const [hostname, address] of literals) {
    it(`resolves the IP literal ${hostname} to itself`, async () => {
      assert.deepEqual(await resolveHost(hostname), [address]);
    });
  }

  it('resolves localhost to loopback addresses only', async () => {
    const addresses = await resolveHost('localhost');
    assert.ok(addresses.length > 0);
    assert.ok(addresses.every((address) => address.startsWith('127.') || address === '::1'), addresses.join(', '));
  });

  it('fails with a network KeyringError naming a host that does not exist', async () => {
    await assert.rejects(resolveHost('no-such-host.invalid'), (error: unknown) => {
      assert.ok(isKeyringError(error, 'network'));
      assert.ok(error.message.includes('no-such-host.invalid'));
      return true;
    });
  });
});
