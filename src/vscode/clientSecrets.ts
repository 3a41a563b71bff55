// Secrets configured per server (a pre-registered client's secret, a static credential for servers without OAuth),
// kept in SecretStorage under the extension's prefix, never in settings.
import type * as vscode from 'vscode';
import { SECRET_KEY_PREFIX } from './ids';

type SecretKind = 'clientSecret' | 'staticCredential';

class ServerSecrets {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly kind: SecretKind,
  ) {}

  get(canonicalUrl: string): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(this.key(canonicalUrl)));
  }

  async set(canonicalUrl: string, value: string): Promise<void> {
    await this.secrets.store(this.key(canonicalUrl), value);
  }

  async delete(canonicalUrl: string): Promise<void> {
    await this.secrets.delete(this.key(canonicalUrl));
  }

  private key(canonicalUrl: string): string {
    return `${SECRET_KEY_PREFIX}${this.kind}/${canonicalUrl}`;
  }
}

export class ClientSecrets extends ServerSecrets {
  constructor(secrets: vscode.SecretStorage) {
    super(secrets, 'clientSecret');
  }
}

export class StaticCredentials extends ServerSecrets {
  constructor(secrets: vscode.SecretStorage) {
    super(secrets, 'staticCredential');
  }
}
