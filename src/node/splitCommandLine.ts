// Splits a browser command setting ("open -a Firefox", "\"C:\Program Files\x\browser.exe\" --new-tab %s") into
// argv the way a shell would for plain words and quotes, so the command can be run without any shell at all.
import { KeyringError } from '../core/errors';

/**
 * Whitespace separates arguments; single or double quotes group, and quoted and unquoted parts next to each
 * other join (`--profile="a b"` is one argument). Backslashes are ordinary characters so Windows paths work.
 */
export function splitCommandLine(commandLine: string): string[] {
  const argv: string[] = [];
  let current = '';
  let isInArgument = false;
  let quote: '"' | "'" | undefined;
  for (const character of commandLine) {
    if (quote) {
      if (character === quote) quote = undefined;
      else current += character;
    } else if (character === '"' || character === "'") {
      quote = character;
      isInArgument = true;
    } else if (/\s/.test(character)) {
      if (isInArgument) argv.push(current);
      current = '';
      isInArgument = false;
    } else {
      current += character;
      isInArgument = true;
    }
  }
  if (quote) throw new KeyringError('usage', 'the browser command has an unterminated quote');
  if (isInArgument) argv.push(current);
  return argv;
}
