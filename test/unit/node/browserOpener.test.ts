import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { isKeyringError } from '../../../src/core/errors';
import type { Logger } from '../../../src/core/ports';
import { createBrowserOpener } from '../../../src/node/browserOpener';
import { makeTempDirectory, removeTempDirectory } from './tempDirectory';

/** Characters a shell would act on: if any shell saw this URL, the argv would not come through intact. */
const URL_WITH_SHELL_CHARACTERS = "https://as.example/authorize?client_id=a&state=s3cr3t-state;echo $HOME`id`'\"|x$&";

/** A "browser": node writing the arguments it received (after the journal path) as JSON. */
const RECORD_ARGV = "require('fs').writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))";

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

describe('createBrowserOpener', () => {
  let directory: string;
  let journal: string;
  let logger: ReturnType<typeof recordingLogger>;
  const node = `"${process.execPath}"`;

  beforeEach(async () => {
    directory = await makeTempDirectory();
    journal = join(directory, 'argv.json');
    logger = recordingLogger();
  });

  afterEach(async () => {
    await removeTempDirectory(directory);
  });

  async function receivedArgv(): Promise<string[]> {
    return JSON.parse(await readFile(journal, 'utf8')) as string[];
  }

  it('puts the URL in place of %s, untouched by any shell, and resolves when the command exits 0', async () => {
    const open = createBrowserOpener({ command: `${node} -e "${RECORD_ARGV}" "${journal}" --url=%s --flag`, logger });
    await open(URL_WITH_SHELL_CHARACTERS);
    assert.deepEqual(await receivedArgv(), [`--url=${URL_WITH_SHELL_CHARACTERS}`, '--flag']);
  });

  it('appends the URL as the last argument when the command has no %s', async () => {
    const open = createBrowserOpener({ command: `${node} -e "${RECORD_ARGV}" "${journal}" --new-tab`, logger });
    await open(URL_WITH_SHELL_CHARACTERS);
    assert.deepEqual(await receivedArgv(), ['--new-tab', URL_WITH_SHELL_CHARACTERS]);
  });

  it('splits the command with single and double quotes into whole arguments', async () => {
    const open = createBrowserOpener({ command: `${node} -e "${RECORD_ARGV}" '${journal}' 'two words' "it's" --profile="my profile" ''`, logger });
    await open('https://as.example/a');
    assert.deepEqual(await receivedArgv(), ['two words', "it's", '--profile=my profile', '', 'https://as.example/a']);
  });

  it('uses $BROWSER from the given environment when no command is given, and passes that environment on', async () => {
    const open = createBrowserOpener({
      env: { ...process.env, BROWSER: `${node} -e "${RECORD_ARGV};process.exit(process.env.MARK === 'yes' ? 0 : 9)" "${journal}"` , MARK: 'yes' },
      logger,
    });
    await open('https://as.example/b');
    assert.deepEqual(await receivedArgv(), ['https://as.example/b']);
  });

  (process.platform === 'linux' ? it : it.skip)('falls back to xdg-open on Linux, found on the PATH it was given', async () => {
    const fake = join(directory, 'xdg-open');
    await writeFile(fake, `#!${process.execPath}\n${RECORD_ARGV.replace('process.argv[1]', JSON.stringify(journal))}\n`);
    await chmod(fake, 0o755);
    const open = createBrowserOpener({ env: { PATH: `${directory}${delimiter}${process.env.PATH ?? ''}` }, platform: 'linux', logger });
    await open('https://as.example/c');
    assert.deepEqual(await receivedArgv(), ['https://as.example/c']);
  });

  it('rejects naming the command, but not the URL, when the command exits non-zero', async () => {
    const open = createBrowserOpener({ command: `${node} -e "process.exit(3)"`, logger });
    await assert.rejects(open(URL_WITH_SHELL_CHARACTERS), (error: unknown) => {
      assert.ok(isKeyringError(error, 'usage'));
      assert.ok(error.message.includes(process.execPath) && error.message.includes('3'));
      assert.ok(!error.message.includes('s3cr3t-state'));
      return true;
    });
  });

  it('rejects naming the command when it cannot be started', async () => {
    const missing = join(directory, 'no-such-browser');
    const open = createBrowserOpener({ command: `${missing} --new-window`, logger });
    await assert.rejects(open(URL_WITH_SHELL_CHARACTERS), (error: unknown) => {
      assert.ok(isKeyringError(error, 'usage'));
      assert.ok(error.message.includes(missing));
      assert.ok(!error.message.includes('s3cr3t-state'));
      return true;
    });
  });

  it('rejects a command with an unterminated quote, or an empty one, as usage', async () => {
    for (const command of [`${node} "unterminated`, '   ']) {
      await assert.rejects(createBrowserOpener({ command, env: {}, logger })('https://as.example/'), (error: unknown) => isKeyringError(error, 'usage'));
    }
  });

  it('never writes the URL to the log', async () => {
    const open = createBrowserOpener({ command: `${node} -e "${RECORD_ARGV}" "${journal}"`, logger });
    await open(URL_WITH_SHELL_CHARACTERS);
    assert.ok(logger.lines.length > 0);
    assert.ok(logger.lines.every((line) => !line.includes('s3cr3t-state')));
  });
});
