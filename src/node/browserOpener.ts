// Opens the sign-in page in the user's browser by running a command directly (never through a shell), because
// the authorization URL carries `&`, `;` and the state, none of which a shell may see or a log may record.
import { spawn } from 'node:child_process';
import { KeyringError, shortErrorCode } from '../core/errors';
import type { Logger, OpenUrl } from '../core/ports';
import { splitCommandLine } from './splitCommandLine';

export interface BrowserOpenerOptions {
  /** A command line such as `firefox --new-tab %s`; `%s` becomes the URL, otherwise the URL is appended. */
  command?: string;
  /** Where `$BROWSER` is read from, and the environment the command runs in. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** Which OS opener to fall back to. Default: this machine's. */
  platform?: NodeJS.Platform;
}

const URL_PLACEHOLDER = '%s';

/** The command to use: the explicit one, else `$BROWSER`, else the OS's own URL opener. */
export function createBrowserOpener(options: BrowserOpenerOptions): OpenUrl {
  const env = options.env ?? process.env;
  // Read at open time, so a malformed $BROWSER only fails the commands that actually open a page.
  return async (url) => {
    const commandLine = options.command || env.BROWSER;
    const template = commandLine ? splitCommandLine(commandLine) : osOpener(options.platform ?? process.platform);
    if (template.length === 0) throw new KeyringError('usage', 'the browser command is empty');
    const [program = '', ...args] = withUrl(template, url);
    options.logger.debug(`[browser] opening the sign-in page with ${program}`);
    await run(program, args, env);
  };
}

/**
 * Windows: `cmd /c start` would hand the URL to cmd, which splits it at `&`; rundll32's URL handler takes it as
 * one argument and opens the default browser the same way.
 */
function osOpener(platform: NodeJS.Platform): string[] {
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler'];
  if (platform === 'darwin') return ['open'];
  return ['xdg-open'];
}

function withUrl(template: readonly string[], url: string): string[] {
  // split/join rather than replace(): a URL may contain `$&`, which replace() would expand.
  if (!template.some((argument) => argument.includes(URL_PLACEHOLDER))) return [...template, url];
  return template.map((argument) => argument.split(URL_PLACEHOLDER).join(url));
}

/** Resolves when the command exits with 0. Errors name the program only: its arguments contain the URL. */
function run(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: 'ignore', shell: false, windowsHide: true });
    // A browser that does not fork keeps running after the sign-in; it must not keep the command line alive.
    child.unref();
    child.once('error', (error) => {
      reject(new KeyringError('usage', `could not start the browser command ${program} (${shortErrorCode(error)})`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new KeyringError('usage', `the browser command ${program} ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}`));
    });
  });
}
