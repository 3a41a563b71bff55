// What the engine needs to obtain tokens for one configured server: its client (secrets from SecretStorage), its
// machine grant if it has one, its DPoP preference and scopes. Given to the keyring once, so every path that needs a
// token — the relay, the API, the authentication provider, a sign-in — uses the same configuration.
import { KeyringError } from '../core/errors';
import type { ServerOptions } from '../core/keyring';
import type { MachineGrant, SecretSource } from '../core/machineGrants';
import type { ClientSecrets, GrantSecretKind, GrantSecrets } from './serverSecrets';
import type { ServerEntry } from './serverEntry';

export interface ServerTokenOptionsDeps {
  readonly clientSecrets: ClientSecrets;
  readonly grantSecrets: GrantSecrets;
  /** Reads a secret file the settings name (a workload identity's token file). */
  readonly readFile: (path: string) => Promise<string>;
  readonly clientMetadataUrl: () => string | undefined;
}

export class ServerTokenOptions {
  constructor(private readonly deps: ServerTokenOptionsDeps) {}

  async forServer(entry: ServerEntry, canonicalUrl: string): Promise<ServerOptions> {
    const { clientSecrets, grantSecrets } = this.deps;
    const withClient = entry.clientId !== undefined;
    return {
      client: {
        clientId: entry.clientId,
        authMethod: entry.clientAuthMethod,
        clientSecret: withClient ? await clientSecrets.get(canonicalUrl) : undefined,
        privateKey: withClient ? await grantSecrets.of('privateKey').get(canonicalUrl) : undefined,
        signingAlg: entry.signingAlg,
        clientMetadataUrl: this.deps.clientMetadataUrl(),
      },
      scopes: entry.scopes,
      resource: entry.resource,
      authorizationParameters: entry.authorizationParameters,
      assumePkce: entry.assumePkce,
      dpop: entry.dpop,
      grant: await this.grantFor(entry, canonicalUrl),
    };
  }

  /** Secrets are read when the grant runs, so a secret set (or a file rotated) after configuration is picked up. */
  private async grantFor(entry: ServerEntry, canonicalUrl: string): Promise<MachineGrant | undefined> {
    const stored = (kind: GrantSecretKind, what: string): SecretSource => async () => {
      const value = await this.deps.grantSecrets.of(kind).get(canonicalUrl);
      if (!value) throw new KeyringError('usage', `no ${what} is stored for ${canonicalUrl}; set it with "MCP Keyring: Set Server Secret…"`);
      return value;
    };
    switch (entry.grant) {
      case undefined:
        return undefined;
      case 'client_credentials':
        return { kind: 'client_credentials' };
      case 'jwt-bearer': {
        const file = entry.assertionFile;
        return { kind: 'jwt-bearer', assertion: file ? () => this.deps.readFile(file) : stored('assertion', 'assertion') };
      }
      case 'token-exchange': {
        const { idpTokenEndpoint, idpClientId } = entry;
        if (!idpTokenEndpoint || !idpClientId) throw new KeyringError('usage', `the token-exchange grant of ${canonicalUrl} needs idpTokenEndpoint and idpClientId in its settings`);
        return {
          kind: 'token-exchange',
          identityProvider: {
            tokenEndpoint: idpTokenEndpoint,
            clientId: idpClientId,
            clientSecret: await this.deps.grantSecrets.of('idpClientSecret').get(canonicalUrl),
            idToken: stored('idpIdToken', 'identity provider ID token'),
          },
        };
      }
    }
  }
}
