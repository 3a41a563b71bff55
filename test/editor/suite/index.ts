// The extension host loads this as `extensionTestsPath` and awaits run(): mocha over every *.test.cjs bundled
// beside it. Mocha is bundled in, so the extension host needs nothing from node_modules.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { mochaLinePrefix, readEditorTestConfig } from './editorTestConfig';

export function run(): Promise<void> {
  const { grep } = readEditorTestConfig();
  // The editor forwards the extension host's console amid its own chatter; a prefix lets the runner tell them apart.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(`${mochaLinePrefix}${format(...args)}`);
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: 60_000 });
  if (grep) mocha.grep(grep);
  const testFiles = readdirSync(__dirname).filter((name) => name.endsWith('.test.cjs')).sort();
  for (const name of testFiles) mocha.addFile(path.join(__dirname, name));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} in-editor test(s) failed`)) : resolve()));
  });
}
