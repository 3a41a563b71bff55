// The command line's grammar: commands, options and their validation, kept apart from what the commands do.
import { parseArgs } from 'node:util';
import type { ClientConfig } from '../core/clientIdentity';
import { KeyringError } from '../core/errors';
import { parseScope } from '../core/scopes';
import { CLIENT_AUTH_METHODS, isExtraAuthorizationParameter, isOneOf, isResourceSetting, MACHINE_GRANT_KINDS, RESOURCE_MODES, type ResourceSetting } from '../core/vocabulary';
import { parseGrantOptions, type GrantSpec } from './grantOptions';

export const COMMANDS = ['login', 'tools', 'call', 'token', 'status', 'use', 'logout', 'diagnose'] as const;
export type Command = (typeof COMMANDS)[number];

export const USAGE = `Usage: mcp-keyring <command> [options]

Commands:
  login    <server-url>                        sign in and store credentials
  tools    <server-url>                        list the server's tools (signs in when the server asks for it)
  call     <server-url> <tool> [--args JSON]   call a tool, print its result
  token    <server-url>                        print a valid access token (refreshing or signing in as needed)
  status   [<server-url>]                      what is stored for every account: issuer, client, scopes, expiry,
                                               refresh state, and which account is preferred
  use      <server-url> --account <label>      make that account the server's preferred one
  logout   <server-url>                        revoke and forget (every account, unless --account names one)
  diagnose <server-url>                        every discovery step: URL, status, what was learned

Options:
  --account <label>             which of the server's accounts (its label, as status shows it); without it, the
                                server's preferred account (the first one signed in, or the one chosen with
                                use). login --account signs in afresh as that account, next to those already
                                signed in
  --client-id <id>              a client registered at the authorization server
  --client-secret <secret>      its secret (or the environment variable MCP_KEYRING_CLIENT_SECRET)
  --client-auth <method>        ${CLIENT_AUTH_METHODS.join(' | ')}
  --private-key <file>          PKCS#8 PEM key for private_key_jwt (RFC 7523; implies that method)
  --signing-alg <alg>           its algorithm: ES256, ES384, RS256, PS256 or EdDSA (default: from the key)
  --client-metadata-url <url>   an https URL of a client ID metadata document to use as the client id
  --scope "<scopes>"            space-separated scopes to request instead of the server's suggestion
  --dpop                        bind tokens to a key (RFC 9449 DPoP); also automatic when the server asks for DPoP
  --no-dpop                     never use DPoP

Authorization servers that need telling:
  --resource <${RESOURCE_MODES.join('|')}|uri>   the resource indicator to send: the server's own (auto, default),
                                none (omit), or the URI the authorization server knows the server by
  --auth-param <name>=<value>   an extra non-secret authorization parameter, e.g. audience=<api> (Auth0) or
                                access_type=offline (Google); repeatable
  --assume-pkce                 sign in although the authorization server does not advertise PKCE, because you
                                know it enforces it (Entra ID, Cognito); PKCE is sent in any case

Grants without a browser (login, tools, call, token):
  --grant <grant>               ${MACHINE_GRANT_KINDS.join(' | ')}
  --assertion <jwt>             jwt-bearer: the assertion (or MCP_KEYRING_ASSERTION)
  --assertion-file <file>       jwt-bearer: read the assertion from a file, afresh on each renewal
  --idp-token-endpoint <url>    token-exchange: the identity provider's token endpoint
  --idp-client-id <id>          token-exchange: our client at the identity provider
  --idp-client-secret <secret>  token-exchange: its secret (or MCP_KEYRING_IDP_CLIENT_SECRET)
  --idp-id-token <jwt>          token-exchange: the ID token to exchange (or MCP_KEYRING_IDP_ID_TOKEN)
  --idp-id-token-file <file>    token-exchange: read the ID token from a file

Other options:
  --args <json object>          arguments of the tool to call
  --store <dir>                 where credentials are kept (default: the OS config directory)
  --browser <command>           how to open the sign-in page (default: $BROWSER, then the OS opener)
  --no-browser                  print the sign-in URL instead of opening it
  --device                      sign in with a code approved in any browser, on any device (RFC 8628),
                                for login, tools, call and token; needs no redirect to this machine
  --port <port>                 loopback port for the redirect (default: any free port)
  --timeout <seconds>           bound for each network request and for the wait for the browser
  --json                        machine-readable output
  --verbose                     log each step to stderr (secrets are never logged)
  -h, --help                    show this help
  --version                     show the version
`;

/** The commands that may sign in. */
const SIGN_IN_COMMANDS: ReadonlySet<Command> = new Set(['login', 'tools', 'call', 'token']);
const DEFAULT_CALLBACK_WAIT_SECONDS = 300;
const DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;

export interface CliOptions {
  readonly command: Command;
  readonly serverUrl?: string;
  /** Which of the server's accounts; undefined: its preferred one (login: whoever signs in). */
  readonly account?: string;
  readonly toolName?: string;
  readonly toolArgs: Record<string, unknown>;
  /** The client configuration; a private key is named by `privateKeyFile` and read when the keyring is built. */
  readonly client: Partial<ClientConfig>;
  readonly privateKeyFile?: string;
  readonly grant?: GrantSpec;
  /** Undefined: DPoP only where the server asks for it. */
  readonly dpop?: boolean;
  readonly scopes?: string[];
  readonly resource?: ResourceSetting;
  readonly authorizationParameters?: Readonly<Record<string, string>>;
  readonly assumePkce: boolean;
  readonly storeDirectory?: string;
  readonly browserCommand?: string;
  readonly openBrowser: boolean;
  readonly device: boolean;
  readonly port: number;
  readonly requestTimeoutMs: number;
  readonly callbackTimeoutMs: number;
  readonly json: boolean;
  readonly verbose: boolean;
}

/** `usage`: no command at all, which is a usage error (the usage goes to stderr), unlike asking for help. */
export type ParsedCommandLine = { readonly kind: 'help' | 'version' | 'usage' } | { readonly kind: 'run'; readonly options: CliOptions };

/** Throws KeyringError('usage') for anything malformed; the message says what and never echoes a secret. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  let parsed: ReturnType<typeof parseRaw>;
  try {
    parsed = parseRaw(argv);
  } catch (error) {
    throw new KeyringError('usage', error instanceof Error ? error.message.split('\n')[0]! : 'invalid arguments');
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (command === undefined) return { kind: 'usage' };
  if (!isCommand(command)) throw new KeyringError('usage', `unknown command "${command}"`);
  const expected = command === 'call' ? 2 : command === 'status' ? 0 : 1;
  const allowed = command === 'status' ? 1 : expected;
  if (rest.length < expected || rest.length > allowed) throw new KeyringError('usage', `${command} takes ${command === 'call' ? '<server-url> <tool>' : command === 'status' ? 'at most one <server-url>' : 'one <server-url>'}`);
  if (values.args !== undefined && command !== 'call') throw new KeyringError('usage', '--args is only for the call command');
  if (values.account !== undefined && command === 'diagnose') throw new KeyringError('usage', '--account is not for diagnose, which signs nobody in');
  if (values.account === undefined && command === 'use') throw new KeyringError('usage', 'use needs --account <label>: the account the server should use');
  if (values.account !== undefined && values.account.trim() === '') throw new KeyringError('usage', '--account needs a label');
  if (values.device && !SIGN_IN_COMMANDS.has(command)) throw new KeyringError('usage', '--device is only for login, tools, call and token');
  const timeoutSeconds = values.timeout === undefined ? undefined : parsePositiveNumber(values.timeout, '--timeout');
  const client = clientConfig(values, env);
  const grantOptions = parseGrantOptions(values, env, client.clientId !== undefined, client.clientSecret !== undefined);
  if (client.authMethod === 'private_key_jwt' && grantOptions.privateKeyFile === undefined) throw new KeyringError('usage', '--client-auth private_key_jwt needs --private-key');
  if (values.dpop && values['no-dpop']) throw new KeyringError('usage', 'give either --dpop or --no-dpop');
  if (values.device && grantOptions.grant) throw new KeyringError('usage', 'give either --device or --grant');
  return {
    kind: 'run',
    options: {
      command,
      serverUrl: rest[0],
      account: values.account,
      toolName: rest[1],
      toolArgs: values.args === undefined ? {} : parseToolArgs(values.args),
      client: { ...client, signingAlg: grantOptions.signingAlg },
      privateKeyFile: grantOptions.privateKeyFile,
      grant: grantOptions.grant,
      dpop: values.dpop ? true : values['no-dpop'] ? false : undefined,
      scopes: values.scope === undefined ? undefined : nonEmptyScopes(values.scope),
      resource: values.resource === undefined ? undefined : parseResource(values.resource),
      authorizationParameters: values['auth-param'] === undefined ? undefined : parseAuthorizationParameters(values['auth-param']),
      assumePkce: values['assume-pkce'] ?? false,
      storeDirectory: values.store,
      browserCommand: values.browser,
      openBrowser: !values['no-browser'],
      device: values.device ?? false,
      port: values.port === undefined ? 0 : parsePort(values.port),
      requestTimeoutMs: (timeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS) * 1000,
      callbackTimeoutMs: (timeoutSeconds ?? DEFAULT_CALLBACK_WAIT_SECONDS) * 1000,
      json: values.json ?? false,
      verbose: values.verbose ?? false,
    },
  };
}

function parseRaw(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      account: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-auth': { type: 'string' },
      'client-metadata-url': { type: 'string' },
      'private-key': { type: 'string' },
      'signing-alg': { type: 'string' },
      grant: { type: 'string' },
      assertion: { type: 'string' },
      'assertion-file': { type: 'string' },
      'idp-token-endpoint': { type: 'string' },
      'idp-client-id': { type: 'string' },
      'idp-client-secret': { type: 'string' },
      'idp-id-token': { type: 'string' },
      'idp-id-token-file': { type: 'string' },
      dpop: { type: 'boolean' },
      'no-dpop': { type: 'boolean' },
      scope: { type: 'string' },
      resource: { type: 'string' },
      'auth-param': { type: 'string', multiple: true },
      'assume-pkce': { type: 'boolean' },
      args: { type: 'string' },
      store: { type: 'string' },
      browser: { type: 'string' },
      'no-browser': { type: 'boolean' },
      device: { type: 'boolean' },
      port: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
}

function clientConfig(values: ReturnType<typeof parseRaw>['values'], env: NodeJS.ProcessEnv): Partial<ClientConfig> {
  const authMethod = values['client-auth'];
  if (authMethod !== undefined && !isOneOf(CLIENT_AUTH_METHODS, authMethod)) {
    throw new KeyringError('usage', `--client-auth must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  }
  const clientSecret = values['client-secret'] ?? (env.MCP_KEYRING_CLIENT_SECRET || undefined);
  if ((clientSecret !== undefined || authMethod !== undefined) && values['client-id'] === undefined) {
    throw new KeyringError('usage', '--client-secret and --client-auth need --client-id');
  }
  const metadataUrl = values['client-metadata-url'];
  if (metadataUrl !== undefined && !isHttpsUrl(metadataUrl)) throw new KeyringError('usage', '--client-metadata-url must be an https URL with a path');
  return {
    clientId: values['client-id'],
    clientSecret,
    authMethod,
    clientMetadataUrl: metadataUrl,
  };
}

function parseToolArgs(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyringError('usage', '--args must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new KeyringError('usage', '--args must be a JSON object');
  return value as Record<string, unknown>;
}

function nonEmptyScopes(text: string): string[] {
  const scopes = parseScope(text);
  if (scopes.length === 0) throw new KeyringError('usage', '--scope needs at least one scope');
  return scopes;
}

function parseResource(text: string): ResourceSetting {
  if (!isResourceSetting(text)) throw new KeyringError('usage', `--resource must be ${RESOURCE_MODES.join(', ')} or an absolute URI`);
  return text;
}

/** `name=value` pairs; the protocol's own parameters (state, redirect_uri, scope, resource…) cannot be set this way. */
function parseAuthorizationParameters(pairs: readonly string[]): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    if (separator < 1 || !isExtraAuthorizationParameter(name)) throw new KeyringError('usage', '--auth-param takes name=value, and not one of the parameters MCP Keyring sets itself (scope and resource have options of their own)');
    parameters[name] = pair.slice(separator + 1);
  }
  return parameters;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KeyringError('usage', '--port must be a port number (0-65535)');
  return port;
}

function parsePositiveNumber(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 86_400) throw new KeyringError('usage', `${name} must be a number of seconds`);
  return value;
}

function isHttpsUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.pathname.length > 1;
  } catch {
    return false;
  }
}

function isCommand(value: string | undefined): value is Command {
  return COMMANDS.includes(value as Command);
}
