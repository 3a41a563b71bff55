// The client the official MCP conformance suite drives: it runs the real `mcp-keyring` command line (dist/cli.mjs)
// as a person would, with the options a person would give for each scenario. The suite appends the server URL, names
// the scenario in MCP_CONFORMANCE_SCENARIO and, for clients it pre-registers, passes their settings in
// MCP_CONFORMANCE_CONTEXT. The sign-in page is opened by the scripted test browser, which follows the suite's
// authorization server back to the command line's loopback redirect.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '..', '..', 'dist', 'cli.mjs');
const testBrowser = path.resolve(here, '..', 'fixtures', 'testBrowserCli.ts');
/** The URL the suite's CIMD scenario expects as the client id; a person would configure their own document. */
const clientMetadataUrl = 'https://conformance-test.local/client-metadata.json';

interface Context {
  readonly client_id?: string;
  readonly client_secret?: string;
  readonly private_key_pem?: string;
  readonly signing_algorithm?: string;
  readonly idp_client_id?: string;
  readonly idp_id_token?: string;
  readonly idp_token_endpoint?: string;
  readonly valid_jwt?: string;
}

/** One command-line run: arguments, and secrets handed over the way the README recommends (environment variables). */
interface Invocation {
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const serverUrl = process.argv.at(-1);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
if (!serverUrl || !/^https?:\/\//.test(serverUrl)) {
  console.error('usage: conformanceClient <server-url> (with MCP_CONFORMANCE_SCENARIO set)');
  process.exit(2);
}
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as Context;
const store = mkdtempSync(path.join(tmpdir(), 'mcp-keyring-conformance-'));

function required(name: keyof Context): string {
  const value = context[name];
  if (typeof value !== 'string') throw new Error(`MCP_CONFORMANCE_CONTEXT lacks ${name} for ${scenario}`);
  return value;
}

/** What a person runs for each kind of scenario: list the tools, then call the suite's tool. */
function invocations(url: string): Invocation[] {
  const browserFlow = ['--browser', `${process.execPath} --import tsx ${testBrowser} %s`, '--client-metadata-url', clientMetadataUrl];
  const listAndCall = (options: readonly string[], env?: Record<string, string>): Invocation[] => [
    { args: ['tools', url, ...options], env },
    { args: ['call', url, 'test-tool', ...options], env },
  ];
  switch (scenario) {
    case 'auth/pre-registration':
      return listAndCall([...browserFlow, '--client-id', required('client_id')], { MCP_KEYRING_CLIENT_SECRET: required('client_secret') });
    case 'auth/client-credentials-basic':
      return [{ args: ['tools', url, '--grant', 'client_credentials', '--client-id', required('client_id'), '--client-auth', 'client_secret_basic'], env: { MCP_KEYRING_CLIENT_SECRET: required('client_secret') } }];
    case 'auth/client-credentials-jwt': {
      const keyFile = path.join(store, 'client-key.pem');
      writeFileSync(keyFile, required('private_key_pem'), { mode: 0o600 });
      const alg = context.signing_algorithm ? ['--signing-alg', context.signing_algorithm] : [];
      return [{ args: ['tools', url, '--grant', 'client_credentials', '--client-id', required('client_id'), '--private-key', keyFile, ...alg] }];
    }
    case 'auth/wif-jwt-bearer':
      return [{ args: ['tools', url, '--grant', 'jwt-bearer', '--client-id', required('client_id')], env: { MCP_KEYRING_ASSERTION: required('valid_jwt') } }];
    case 'auth/enterprise-managed-authorization':
      return listAndCall(
        ['--grant', 'token-exchange', '--client-id', required('client_id'), '--idp-token-endpoint', required('idp_token_endpoint'), '--idp-client-id', required('idp_client_id')],
        { MCP_KEYRING_CLIENT_SECRET: required('client_secret'), MCP_KEYRING_IDP_ID_TOKEN: required('idp_id_token') },
      );
    default:
      return listAndCall(browserFlow);
  }
}

let status = 0;
try {
  for (const { args, env } of invocations(serverUrl)) {
    const run = spawnSync(process.execPath, [cli, ...args, '--store', store, '--timeout', '20'], {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    status = run.status ?? 1;
    if (status !== 0) break;
  }
} finally {
  rmSync(store, { recursive: true, force: true });
}
process.exit(status);
