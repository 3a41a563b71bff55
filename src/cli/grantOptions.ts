// The command line's machine-grant options: which grant, where its assertion or ID token comes from, and the
// private key for private_key_jwt. Parsing is pure; reading the files happens when the grant runs, so a token file
// that the platform rotates (a workload identity) is read afresh on every renewal.
import { KeyringError } from '../core/errors';
import type { MachineGrant, SecretSource } from '../core/machineGrants';
import { SIGNING_ALGS, isSigningAlg } from '../core/signingKeys';
import { isOneOf, MACHINE_GRANT_KINDS } from '../core/vocabulary';

/** Where a secret comes from: a value (from the command line or the environment), or a file read when needed. */
export type SecretInput = { readonly value: string } | { readonly file: string };

export type GrantSpec =
  | { readonly kind: 'client_credentials' }
  | { readonly kind: 'jwt-bearer'; readonly assertion: SecretInput }
  | {
    readonly kind: 'token-exchange';
    readonly idpTokenEndpoint: string;
    readonly idpClientId: string;
    readonly idpClientSecret?: string;
    readonly idToken: SecretInput;
  };

export interface GrantValues {
  readonly grant?: string;
  readonly assertion?: string;
  readonly 'assertion-file'?: string;
  readonly 'idp-token-endpoint'?: string;
  readonly 'idp-client-id'?: string;
  readonly 'idp-client-secret'?: string;
  readonly 'idp-id-token'?: string;
  readonly 'idp-id-token-file'?: string;
  readonly 'private-key'?: string;
  readonly 'signing-alg'?: string;
}

export interface ParsedGrantOptions {
  readonly grant?: GrantSpec;
  readonly privateKeyFile?: string;
  readonly signingAlg?: string;
}

/** Validates the grant options against the client options (client credentials needs a secret or a private key). */
export function parseGrantOptions(values: GrantValues, env: NodeJS.ProcessEnv, hasClientId: boolean, hasClientSecret: boolean): ParsedGrantOptions {
  const privateKeyFile = values['private-key'];
  const signingAlg = values['signing-alg'];
  if (signingAlg !== undefined && privateKeyFile === undefined) throw new KeyringError('usage', '--signing-alg needs --private-key');
  if (signingAlg !== undefined && !isSigningAlg(signingAlg)) throw new KeyringError('usage', `--signing-alg must be one of ${SIGNING_ALGS.join(', ')}`);
  if (privateKeyFile !== undefined && !hasClientId) throw new KeyringError('usage', '--private-key needs --client-id');
  const grant = parseGrant(values, env);
  if (grant && !hasClientId) throw new KeyringError('usage', `--grant ${grant.kind} needs a client registered at the authorization server (--client-id)`);
  if (grant?.kind === 'client_credentials' && !hasClientSecret && privateKeyFile === undefined) {
    throw new KeyringError('usage', '--grant client_credentials needs the client to authenticate: --client-secret (or MCP_KEYRING_CLIENT_SECRET) or --private-key');
  }
  return { grant, privateKeyFile, signingAlg };
}

function parseGrant(values: GrantValues, env: NodeJS.ProcessEnv): GrantSpec | undefined {
  const kind = values.grant;
  const assertion = secretInput(values.assertion, values['assertion-file'], env.MCP_KEYRING_ASSERTION, '--assertion');
  const idToken = secretInput(values['idp-id-token'], values['idp-id-token-file'], env.MCP_KEYRING_IDP_ID_TOKEN, '--idp-id-token');
  const idpOptionGiven = ['idp-token-endpoint', 'idp-client-id', 'idp-client-secret', 'idp-id-token', 'idp-id-token-file'].some((name) => values[name as keyof GrantValues] !== undefined);
  if (kind === undefined) {
    if (values.assertion !== undefined || values['assertion-file'] !== undefined || idpOptionGiven) throw new KeyringError('usage', 'assertion and identity provider options need --grant');
    return undefined;
  }
  if (!isOneOf(MACHINE_GRANT_KINDS, kind)) throw new KeyringError('usage', `--grant must be one of ${MACHINE_GRANT_KINDS.join(', ')}`);
  if (kind !== 'jwt-bearer' && (values.assertion !== undefined || values['assertion-file'] !== undefined)) throw new KeyringError('usage', '--assertion and --assertion-file are for --grant jwt-bearer');
  if (kind !== 'token-exchange' && idpOptionGiven) throw new KeyringError('usage', 'the --idp-… options are for --grant token-exchange');
  switch (kind) {
    case 'client_credentials':
      return { kind: 'client_credentials' };
    case 'jwt-bearer':
      if (!assertion) throw new KeyringError('usage', '--grant jwt-bearer needs --assertion, --assertion-file or MCP_KEYRING_ASSERTION');
      return { kind: 'jwt-bearer', assertion };
    case 'token-exchange': {
      const idpTokenEndpoint = values['idp-token-endpoint'];
      const idpClientId = values['idp-client-id'];
      if (!idpTokenEndpoint || !idpClientId) throw new KeyringError('usage', '--grant token-exchange needs --idp-token-endpoint and --idp-client-id');
      if (!idToken) throw new KeyringError('usage', '--grant token-exchange needs --idp-id-token, --idp-id-token-file or MCP_KEYRING_IDP_ID_TOKEN');
      return { kind: 'token-exchange', idpTokenEndpoint, idpClientId, idpClientSecret: values['idp-client-secret'] ?? (env.MCP_KEYRING_IDP_CLIENT_SECRET || undefined), idToken };
    }
  }
}

function secretInput(value: string | undefined, file: string | undefined, fromEnv: string | undefined, option: string): SecretInput | undefined {
  if (value !== undefined && file !== undefined) throw new KeyringError('usage', `give either ${option} or ${option}-file, not both`);
  if (file !== undefined) return { file };
  const given = value ?? (fromEnv || undefined);
  return given === undefined ? undefined : { value: given };
}

/** Reads a small secret file; the caller keeps each value it reads out of every message. */
export type ReadSecretFile = (path: string) => Promise<string>;

export function toMachineGrant(spec: GrantSpec, readFile: ReadSecretFile): MachineGrant {
  const source = (input: SecretInput): SecretSource => ('file' in input ? () => readFile(input.file) : () => Promise.resolve(input.value));
  switch (spec.kind) {
    case 'client_credentials':
      return spec;
    case 'jwt-bearer':
      return { kind: 'jwt-bearer', assertion: source(spec.assertion) };
    case 'token-exchange':
      return {
        kind: 'token-exchange',
        identityProvider: { tokenEndpoint: spec.idpTokenEndpoint, clientId: spec.idpClientId, clientSecret: spec.idpClientSecret, idToken: source(spec.idToken) },
      };
  }
}
