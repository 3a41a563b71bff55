import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isKeyringError } from '../../../src/core/errors';
import { defaultStoreDirectory, FileStore } from '../../../src/node/fileStore';
import { makeTempDirectory, removeTempDirectory } from './tempDirectory';

const isPosix = process.platform !== 'win32';

describe('FileStore', () => {
  let root: string;
  let directory: string;
  let store: FileStore;

  beforeEach(async () => {
    root = await makeTempDirectory();
    directory = join(root, 'nested', 'keyring');
    store = await FileStore.open(directory);
  });

  afterEach(async () => {
    await removeTempDirectory(root);
  });

  it('reads back exactly the value it stored, and undefined for a key never stored', async () => {
    const value = '{"access_token":"at-1","note":"line\\nbreak ünïcödé \\u0000"}\n  ';
    await store.set('credential:https://host/mcp|https://as|client|alice', value);
    assert.equal(await store.get('credential:https://host/mcp|https://as|client|alice'), value);
    assert.equal(await store.get('credential:https://host/mcp|https://as|client|bob'), undefined);
  });

  it('replaces a value on a second set', async () => {
    await store.set('k', 'first');
    await store.set('k', 'second');
    assert.equal(await store.get('k'), 'second');
  });

  it('leaves no temporary files behind after writes', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, index) => store.set(`key-${index % 3}`, `value-${index}`)));
    const names = await readdir(directory);
    assert.deepEqual(names.filter((name) => !name.endsWith('.json')), []);
    assert.equal(names.length, 3);
  });

  it('never lets a reader see a half-written value while writes race', async () => {
    const values = ['a'.repeat(200_000), 'b'.repeat(300_000)];
    await store.set('big', values[0]!);
    const writes = Promise.all(Array.from({ length: 10 }, (_, index) => store.set('big', values[index % 2]!)));
    for (let read = 0; read < 30; read += 1) assert.ok(values.includes((await store.get('big'))!));
    await writes;
  });

  (isPosix ? it : it.skip)('creates the directory 0700 and record files 0600, tightening an existing directory', async () => {
    await store.set('secret', 'value');
    const [name = ''] = await readdir(directory);
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    assert.equal((await stat(join(directory, name))).mode & 0o777, 0o600);

    const loose = join(root, 'loose');
    await mkdir(loose, { mode: 0o755 });
    await FileStore.open(loose);
    assert.equal((await stat(loose)).mode & 0o777, 0o700);
  });

  it('lists the keys that start with a prefix, and only those', async () => {
    await store.set('credential:https://a/mcp|alice', '1');
    await store.set('credential:https://b/mcp|bob', '2');
    await store.set('client:https://as', '3');
    assert.deepEqual(await store.keys('credential:'), ['credential:https://a/mcp|alice', 'credential:https://b/mcp|bob']);
    assert.deepEqual(await store.keys(''), ['client:https://as', 'credential:https://a/mcp|alice', 'credential:https://b/mcp|bob']);
    assert.deepEqual(await store.keys('nothing'), []);
  });

  it('keeps keys with slashes, dots, colons, unicode, case differences and great length apart', async () => {
    const keys = [
      '../../etc/passwd',
      'a/b\\c:d|e',
      '.',
      '',
      'Key',
      'key',
      'ключ 🔑',
      `credential:https://host/mcp|https://as.example.com/tenant|https://app.example.com/oauth/client-metadata.json|${'x'.repeat(300)}`,
    ];
    for (const [index, key] of keys.entries()) await store.set(key, `value-${index}`);
    for (const [index, key] of keys.entries()) assert.equal(await store.get(key), `value-${index}`);
    assert.deepEqual(await store.keys(''), [...keys].sort());
    assert.deepEqual(await readdir(root), ['nested'], 'nothing escapes the store directory');
  });

  it('deletes a key, and deleting a missing key is not an error', async () => {
    await store.set('k', 'v');
    await store.delete('k');
    await store.delete('k');
    assert.equal(await store.get('k'), undefined);
    assert.deepEqual(await store.keys(''), []);
  });

  it('ignores lock files and foreign files when listing keys', async () => {
    await store.set('k', 'v');
    await store.withLock('k', async () => {
      await writeFile(join(directory, 'notes.txt'), 'hello');
      assert.deepEqual(await store.keys(''), ['k']);
    });
  });

  it('reports an unreadable record as store_failed without showing its content', async () => {
    await store.set('k', 'v');
    const [name = ''] = await readdir(directory);
    await writeFile(join(directory, name), 'secret-token-text');
    await assert.rejects(store.get('k'), (error: unknown) => {
      assert.ok(isKeyringError(error, 'store_failed'));
      assert.ok(error.message.includes(directory));
      assert.ok(!error.message.includes('secret-token-text'));
      return true;
    });
  });

  it('fails with store_failed naming the directory when it cannot be created', async () => {
    const blocker = join(root, 'file');
    await writeFile(blocker, '');
    await assert.rejects(FileStore.open(join(blocker, 'keyring')), (error: unknown) => {
      assert.ok(isKeyringError(error, 'store_failed'));
      assert.ok(error.message.includes(blocker));
      return true;
    });
  });

  it('runs locked work on one key one at a time', async () => {
    const events: string[] = [];
    const work = (name: string) => store.withLock('credential:x', async () => {
      events.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`end ${name}`);
      return name;
    });
    assert.deepEqual(await Promise.all([work('a'), work('b'), work('c')]), ['a', 'b', 'c']);
    assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});

describe('defaultStoreDirectory', () => {
  const cases: { platform: NodeJS.Platform; env: NodeJS.ProcessEnv; expected: string }[] = [
    { platform: 'linux', env: {}, expected: '/home/alice/.config/mcp-keyring' },
    { platform: 'linux', env: { XDG_CONFIG_HOME: '/xdg' }, expected: '/xdg/mcp-keyring' },
    { platform: 'linux', env: { XDG_CONFIG_HOME: 'relative/xdg' }, expected: '/home/alice/.config/mcp-keyring' },
    { platform: 'darwin', env: { XDG_CONFIG_HOME: '/xdg' }, expected: '/home/alice/Library/Application Support/mcp-keyring' },
    { platform: 'win32', env: { APPDATA: 'C:\\Users\\alice\\AppData\\Roaming' }, expected: 'C:\\Users\\alice\\AppData\\Roaming\\mcp-keyring' },
    { platform: 'win32', env: {}, expected: '\\home\\alice\\AppData\\Roaming\\mcp-keyring' },
  ];
  for (const { platform, env, expected } of cases) {
    it(`is ${expected} on ${platform} with ${JSON.stringify(env)}`, () => {
      assert.equal(defaultStoreDirectory(platform, env, '/home/alice'), expected);
    });
  }
});

describe('FileStore refusing a credential directory others could swap', function () {
  let root: string;

  beforeEach(async () => {
    root = await makeTempDirectory();
  });
  afterEach(async () => {
    await removeTempDirectory(root);
  });

  const REFUSED: { what: string; arrange: (root: string) => Promise<string>; reason: RegExp }[] = [
    {
      what: 'a store directory that is a symbolic link',
      arrange: async (dir) => {
        await mkdir(join(dir, 'real'), { mode: 0o700 });
        await symlink(join(dir, 'real'), join(dir, 'keyring'));
        return join(dir, 'keyring');
      },
      reason: /keyring is a symbolic link/,
    },
    {
      what: 'a store directory writable by its group',
      arrange: async (dir) => {
        await mkdir(join(dir, 'keyring'));
        await chmod(join(dir, 'keyring'), 0o770);
        return join(dir, 'keyring');
      },
      reason: /keyring is writable by group or others/,
    },
    {
      what: 'a store directory inside a parent anyone can write to',
      arrange: async (dir) => {
        await mkdir(join(dir, 'shared'));
        await chmod(join(dir, 'shared'), 0o777);
        return join(dir, 'shared', 'keyring');
      },
      reason: /shared \(above .*keyring\) is writable by group or others/,
    },
    {
      what: 'a store directory inside a parent writable by a group that is not the user\'s',
      arrange: async (dir) => {
        await mkdir(join(dir, 'team'));
        // Only root can hand a directory to another group; as anyone else the parent stays the user's own group.
        if (process.getuid?.() === 0) await chown(join(dir, 'team'), 0, 65534);
        await chmod(join(dir, 'team'), process.getuid?.() === 0 ? 0o775 : 0o777);
        return join(dir, 'team', 'keyring');
      },
      reason: /team \(above .*keyring\) is writable by group or others; others could swap the credentials in it \(chmod go-w .*team\)$/,
    },
    {
      what: 'a store directory reached through a symbolic link into a directory anyone can write to',
      arrange: async (dir) => {
        await mkdir(join(dir, 'shared'));
        await chmod(join(dir, 'shared'), 0o777);
        await mkdir(join(dir, 'shared', 'inner'), { mode: 0o700 });
        await mkdir(join(dir, 'private'), { mode: 0o700 });
        await symlink(join(dir, 'shared', 'inner'), join(dir, 'private', 'link'));
        return join(dir, 'private', 'link', 'keyring');
      },
      reason: /shared \(above .*keyring\) is writable by group or others/,
    },
    {
      what: 'a store directory owned by another user',
      arrange: async (dir) => {
        await mkdir(join(dir, 'keyring'), { mode: 0o700 });
        // Only root can give a directory away; as anyone else the check is the same code path as below.
        if (process.getuid?.() === 0) await chown(join(dir, 'keyring'), 65534, 65534);
        else return '/';
        return join(dir, 'keyring');
      },
      reason: /is owned by another user/,
    },
  ];

  for (const row of REFUSED) {
    it(`refuses ${row.what}, saying why, and creates nothing`, async function () {
      if (!isPosix) this.skip();
      const directory = await row.arrange(root);
      const before = await listTree(root);
      await assert.rejects(FileStore.open(directory), (error: unknown) => isKeyringError(error, 'store_failed') && row.reason.test(error.message));
      assert.deepEqual(await listTree(root), before);
    });
  }

  it('accepts a store directory below a parent writable by the user\'s own group (user private groups with umask 002)', async function () {
    if (!isPosix) this.skip();
    await mkdir(join(root, 'config'));
    await chmod(join(root, 'config'), 0o775);
    const store = await FileStore.open(join(root, 'config', 'keyring'));
    await store.set('k', 'v');
    assert.equal((await stat(join(root, 'config', 'keyring'))).mode & 0o777, 0o700);
  });

  it('accepts a store directory below a sticky directory anyone can write to (as /tmp is), and through safe symbolic links', async function () {
    if (!isPosix) this.skip();
    await mkdir(join(root, 'sticky'));
    await chmod(join(root, 'sticky'), 0o1777);
    await mkdir(join(root, 'home'), { mode: 0o700 });
    await symlink(join(root, 'sticky'), join(root, 'home', 'link'));
    const store = await FileStore.open(join(root, 'home', 'link', 'keyring'));
    await store.set('k', 'v');
    assert.equal(await store.get('k'), 'v');
    assert.equal((await stat(join(root, 'sticky', 'keyring'))).mode & 0o777, 0o700);
  });
});

async function listTree(directory: string): Promise<string[]> {
  return (await readdir(directory, { recursive: true })).sort();
}
