import assert from 'node:assert/strict';
import { isKeyringError } from '../../../src/core/errors';
import { splitCommandLine } from '../../../src/node/splitCommandLine';

describe('splitCommandLine', () => {
  const cases: [string, string[]][] = [
    ['firefox', ['firefox']],
    ['  open   -a Safari  ', ['open', '-a', 'Safari']],
    ['"/Applications/Google Chrome.app/x" %s', ['/Applications/Google Chrome.app/x', '%s']],
    ["'single quoted' \"double 'inner'\"", ['single quoted', "double 'inner'"]],
    ['--profile="a b"c', ['--profile=a bc']],
    ['"C:\\Program Files\\Browser\\browser.exe" --new-tab', ['C:\\Program Files\\Browser\\browser.exe', '--new-tab']],
    ['x "" y', ['x', '', 'y']],
    ['tab\tseparated', ['tab', 'separated']],
    ['', []],
  ];
  for (const [commandLine, argv] of cases) {
    it(`splits ${JSON.stringify(commandLine)} into ${JSON.stringify(argv)}`, () => {
      assert.deepEqual(splitCommandLine(commandLine), argv);
    });
  }

  it('rejects an unterminated quote as usage', () => {
    assert.throws(() => splitCommandLine('browser "open'), (error: unknown) => isKeyringError(error, 'usage'));
  });
});
