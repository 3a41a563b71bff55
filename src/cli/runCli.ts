// Runs one command line: parse, compose the engine, run the command, print, and map failures to exit codes
// (0 success, 1 failure with a one-line reason naming the failed check, 2 usage). Never prints a stack trace.
import { KeyringError, toKeyringError, type MissingConfiguration } from '../core/errors';
import type { Keyring, SignInOptions } from '../core/keyring';
import type { Logger, OpenUrl } from '../core/ports';
import { redactingLogger, redactText, redactUrl } from '../core/redact';
import { formatDiagnosis, formatStatus } from '../core/reportText';
import { readSecretFile } from '../node/readSecretFile';
// esbuild keeps only this field of the manifest in the bundle.
import { version } from '../../package.json';
import { toMachineGrant, type GrantSpec } from './grantOptions';
import { openMcpSession } from './mcpSession';
import { createNodeKeyring } from './nodeKeyring';
import type { RememberedServerOptions } from './rememberedOptions';
import { USAGE, parseCommandLine, type CliOptions } from './options';
import { terminalSafeJson, withoutControlCharacters } from './terminalText';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Tests play the browser; the real CLI opens one. */
  readonly openUrl?: OpenUrl;
  readonly now?: () => number;
  /** Aborted when the person interrupts the command (Ctrl-C): what it waits for is cancelled. */
  readonly interruption?: AbortSignal;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT, as shells report a command stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** The command line's words for what the engine found missing; the editor has its own. */
const HOW_TO_GIVE: Record<MissingConfiguration, string> = {
  clientId: 'pass --client-id',
  clientSecret: 'pass --client-secret or set MCP_KEYRING_CLIENT_SECRET',
  privateKey: 'pass --private-key',
  scopes: 'pass --scope',
  assumePkce: 'pass --assume-pkce if you know the authorization server enforces PKCE',
  resource: 'pass --resource omit, or --resource <the URI the authorization server knows the server by>',
  audience: 'pass --auth-param audience=<the identifier of the server\'s API at the authorization server>',
};

export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Every line printed passes here, whatever part of it a server chose.
  const io: CliIo = { ...rawIo, stdout: (text) => rawIo.stdout(withoutControlCharacters(text)), stderr: (text) => rawIo.stderr(withoutControlCharacters(text)) };
  let options: CliOptions;
  try {
    const parsed = parseCommandLine(argv, io.env);
    switch (parsed.kind) {
      case 'help':
        io.stdout(USAGE);
        return EXIT_OK;
      case 'version':
        io.stdout(`mcp-keyring ${version}\n`);
        return EXIT_OK;
      case 'usage':
        io.stderr(USAGE);
        return EXIT_USAGE;
    }
    options = parsed.options;
  } catch (error) {
    io.stderr(`mcp-keyring: ${redactText(toKeyringError(error, 'arguments').message)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const secrets = [options.client.clientSecret, ...literalSecrets(options.grant)].filter((value): value is string => Boolean(value));
  const logger = redactingLogger(stderrLogger(io, options.verbose), () => secrets);
  // Every secret read from a file joins the list, so no message can quote it.
  const readSecret = async (path: string) => {
    const text = await readSecretFile(path);
    secrets.push(text.trim());
    return text;
  };
  try {
    const signIn: SignInOptions = {
      client: { ...options.client, privateKey: options.privateKeyFile === undefined ? undefined : await readSecret(options.privateKeyFile) },
      scopes: options.scopes,
      resource: options.resource,
      authorizationParameters: options.authorizationParameters,
      assumePkce: options.assumePkce || undefined,
      dpop: options.dpop,
      grant: options.grant && toMachineGrant(options.grant, readSecret),
      flow: options.device ? 'device' : undefined,
      account: options.account,
      // Signing in as a named account asks for a fresh login: the browser may be signed in as another one.
      anotherAccount: options.account !== undefined,
      signal: io.interruption,
    };
    const { keyring, rememberedOptions } = await createNodeKeyring(options, {
      env: io.env,
      logger,
      openUrl: io.openUrl,
      printSignInUrl: (url) => io.stderr(`Open this URL in a browser to sign in:\n${url}\n`),
      printDeviceCode: (prompt) => io.stderr(`To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}\n${prompt.verificationUriComplete ? `(or open ${prompt.verificationUriComplete})\n` : ''}`),
    });
    await runCommand(keyring, options, signIn, io);
    await keepServerOptions(keyring, rememberedOptions, options, signIn);
    return EXIT_OK;
  } catch (error) {
    if (io.interruption?.aborted) {
      io.stderr('mcp-keyring: interrupted\n');
      return EXIT_INTERRUPTED;
    }
    const failure = toKeyringError(error, options.command);
    const remedy = failure.missing ? ` (${HOW_TO_GIVE[failure.missing]})` : failure.hint?.kind === 'issuerChange' ? ` (if you trust ${failure.hint.issuer}, run mcp-keyring logout ${logoutTarget(options.serverUrl)} and sign in again)` : failure.code === 'invalid_client' && options.client.clientId !== undefined ? ' (check --client-id and --client-secret)' : '';
    io.stderr(`mcp-keyring: ${failure.code}: ${redactText(`${failure.message}${remedy}`, secrets)}\n`);
    return failure.code === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
  }
}

async function runCommand(keyring: Keyring, options: CliOptions, signIn: SignInOptions, io: CliIo): Promise<void> {
  const now = io.now ?? Date.now;
  const print = (value: unknown, human: () => string) => io.stdout(`${options.json ? terminalSafeJson(value) : human()}\n`);
  const serverUrl = options.serverUrl!;
  switch (options.command) {
    case 'login': {
      // An explicit sign-in starts from what the servers say now, not from the discovery cache.
      await keyring.forgetDiscovery(serverUrl);
      const credential = await keyring.signIn(serverUrl, signIn);
      print({ serverUrl, account: credential.account, issuer: credential.issuer, scopes: credential.scopes, expiresAt: credential.expiresAt }, () => `Signed in to ${redactUrl(serverUrl)} as ${credential.account}.`);
      return;
    }
    case 'token': {
      const credential = await keyring.getAccessToken(serverUrl, { ...signIn, interactive: true });
      // The one place a secret is printed, on purpose: stdout of `token`.
      print({ accessToken: credential.accessToken, tokenType: credential.tokenType, expiresAt: credential.expiresAt }, () => credential.accessToken);
      return;
    }
    case 'tools':
    case 'call': {
      // Any MCP request may wait for the person in the browser (the first sign-in, a step-up): its bound includes
      // that wait, or the request would give up first and hide the sign-in's own outcome.
      const session = await openMcpSession(serverUrl, keyring.fetchFor(serverUrl, { ...signIn, interactive: true }), options.requestTimeoutMs + options.callbackTimeoutMs, io.interruption);
      try {
        if (options.command === 'tools') {
          const tools = await session.listTools();
          print({ protocolVersion: session.protocolVersion, tools }, () => tools.map((tool) => `${tool.name}${tool.description ? ` — ${tool.description}` : ''}`).join('\n'));
        } else {
          const result = await session.callTool(options.toolName!, options.toolArgs);
          print(result, () => formatToolResult(result));
          if ((result as { isError?: unknown }).isError === true) throw new KeyringError('mcp_failed', `the tool ${options.toolName} reported an error`);
        }
      } finally {
        await session.close().catch(() => undefined);
      }
      return;
    }
    case 'status': {
      const statuses = await keyring.status(options.serverUrl, options.account);
      print(statuses, () => formatStatus(statuses, now()));
      return;
    }
    case 'use': {
      const status = await keyring.setPreferredAccount(serverUrl, options.account!);
      print(status, () => `${redactUrl(serverUrl)} now uses ${status.account}.`);
      return;
    }
    case 'logout': {
      const result = await keyring.signOut(serverUrl, { account: options.account, signal: io.interruption });
      const who = `${redactUrl(serverUrl)} as ${result.accounts.join(', ')}`;
      print(result, () => (result.revoked.length > 0 ? `Signed out of ${who}; revoked the ${result.revoked.join(' and ').replace(/_/g, ' ')}.` : `Signed out of ${who}${result.revocationSupported ? ` (revocation failed: ${result.revocationError ?? 'unknown'})` : ' (the server offers no revocation)'}.`));
      return;
    }
    case 'diagnose': {
      const report = await keyring.diagnose(serverUrl);
      print(report, () => formatDiagnosis(report));
      if (report.error) throw new KeyringError(report.error.code as KeyringError['code'], report.error.message);
      return;
    }
  }
}

/**
 * After a command that succeeded: the options it was given for the server's authorization server are kept for the
 * next runs (a refresh, a sign-in again, a step-up need them as much as the first sign-in did); a logout that leaves
 * no account forgets them.
 */
async function keepServerOptions(keyring: Keyring, remembered: RememberedServerOptions, options: CliOptions, signIn: SignInOptions): Promise<void> {
  const serverUrl = options.serverUrl;
  if (serverUrl === undefined) return;
  if (options.command === 'logout') {
    if ((await keyring.status(serverUrl)).length === 0) await remembered.forget(serverUrl);
    return;
  }
  if (options.command === 'status' || options.command === 'diagnose') return;
  await remembered.remember(serverUrl, { assumePkce: signIn.assumePkce, authorizationParameters: signIn.authorizationParameters, resource: signIn.resource });
}

/** The server URL to type, unless its query must stay off the terminal: then the person types their own. */
function logoutTarget(serverUrl: string | undefined): string {
  return serverUrl !== undefined && URL.canParse(serverUrl) && !/[?#]/.test(serverUrl) ? serverUrl : '<server-url>';
}

function literalSecrets(grant: GrantSpec | undefined): (string | undefined)[] {
  if (grant?.kind === 'jwt-bearer' && 'value' in grant.assertion) return [grant.assertion.value];
  if (grant?.kind === 'token-exchange') return [grant.idpClientSecret, 'value' in grant.idToken ? grant.idToken.value : undefined];
  return [];
}

function formatToolResult(result: unknown): string {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return JSON.stringify(result, null, 2);
  return content.map((block: { type?: unknown; text?: unknown }) => (block.type === 'text' && typeof block.text === 'string' ? block.text : JSON.stringify(block))).join('\n');
}

function stderrLogger(io: CliIo, verbose: boolean): Logger {
  const write = (level: string) => (message: string) => io.stderr(`${level} ${message}\n`);
  const quiet = () => undefined;
  return { debug: verbose ? write('debug') : quiet, info: verbose ? write('info') : quiet, warn: write('warn'), error: write('error') };
}
