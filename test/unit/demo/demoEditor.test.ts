import assert from 'node:assert/strict';
import { chooseDemoEditor, vscodeDemoArgs, type Platform } from '../../../scripts/demoEditor';

function platform(os: NodeJS.Platform, env: NodeJS.ProcessEnv, files: string[]): Platform {
  return { os, env, isFile: (file) => files.includes(file) };
}

describe('the editor npm run demo opens', () => {
  const cases: { name: string; platform: Platform; expected: ReturnType<typeof chooseDemoEditor> }[] = [
    {
      name: 'Linux with VS Code installed: its code command, the first on PATH',
      platform: platform('linux', { PATH: '/home/a/bin:/usr/bin:/snap/bin' }, ['/usr/bin/code', '/snap/bin/code']),
      expected: { kind: 'vscode', command: '/usr/bin/code' },
    },
    {
      name: 'macOS with the code command installed from VS Code',
      platform: platform('darwin', { PATH: '/opt/homebrew/bin:/usr/local/bin' }, ['/usr/local/bin/code']),
      expected: { kind: 'vscode', command: '/usr/local/bin/code' },
    },
    {
      name: 'Windows: code.cmd found through PATHEXT on a Path spelled as Windows spells it',
      platform: platform('win32', { Path: 'C:\\Windows;C:\\Users\\a\\AppData\\Local\\Programs\\Microsoft VS Code\\bin', PATHEXT: '.COM;.EXE;.BAT;.CMD' }, ['C:\\Users\\a\\AppData\\Local\\Programs\\Microsoft VS Code\\bin\\code.cmd']),
      expected: { kind: 'vscode', command: 'C:\\Users\\a\\AppData\\Local\\Programs\\Microsoft VS Code\\bin\\code.cmd' },
    },
    {
      name: 'no code command anywhere: code-server in the browser',
      platform: platform('linux', { PATH: '/usr/local/bin:/usr/bin' }, ['/usr/bin/node']),
      expected: { kind: 'codeServer' },
    },
    {
      name: 'no PATH at all: code-server',
      platform: platform('linux', {}, ['/usr/bin/code']),
      expected: { kind: 'codeServer' },
    },
  ];
  for (const { name, platform: given, expected } of cases) {
    it(name, () => assert.deepEqual(chooseDemoEditor(given), expected));
  }

  it('installs the .vsix and opens VS Code in a throwaway profile and extensions folder, never the person\'s own', () => {
    assert.deepEqual(vscodeDemoArgs('/tmp/demo', '/repo/.tmp/mcp-keyring.vsix', 'linux'), {
      install: ['--user-data-dir=/tmp/demo/user-data', '--extensions-dir=/tmp/demo/extensions', '--install-extension', '/repo/.tmp/mcp-keyring.vsix', '--force'],
      open: [
        '--user-data-dir=/tmp/demo/user-data', '--extensions-dir=/tmp/demo/extensions',
        '--new-window', '--wait', '--skip-welcome', '--skip-release-notes', '--disable-workspace-trust', '/tmp/demo/workspace',
      ],
    });
  });

  it('builds Windows paths on Windows', () => {
    const { open } = vscodeDemoArgs('C:\\Temp\\demo', 'C:\\repo\\x.vsix', 'win32');
    assert.equal(open[0], '--user-data-dir=C:\\Temp\\demo\\user-data');
    assert.equal(open.at(-1), 'C:\\Temp\\demo\\workspace');
  });
});
