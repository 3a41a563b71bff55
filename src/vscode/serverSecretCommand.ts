// "MCP Keyring: Set Server Secret…": enters one of the secrets a server's configuration calls for (see
// serverSecretKinds) and keeps it in SecretStorage. A private key can be read from a PEM file and is checked before it
// is stored. Callers that automate setup may pass (server URL, kind, value) as command arguments instead of asking.
import * as vscode from 'vscode';
import { KeyringError } from '../core/errors';
import { importPrivateKeyPem } from '../core/signingKeys';
import { MAX_SECRET_FILE_BYTES } from '../node/readSecretFile';
import type { Logger } from '../core/ports';
import { reportFailure } from './commands';
import type { ConfiguredServer } from './configuredServer';
import { Commands } from './ids';
import { displayName } from './serverEntry';
import type { ServerRegistry } from './serverRegistry';
import { secretKindsFor, type ClientSecrets, type GrantSecrets, type ServerSecretKind, type ServerSecrets } from './serverSecrets';

export interface ServerSecretCommandDeps {
  readonly registry: ServerRegistry;
  readonly clientSecrets: ClientSecrets;
  readonly grantSecrets: GrantSecrets;
}

export function registerServerSecretCommand(deps: ServerSecretCommandDeps, logger: Logger): vscode.Disposable {
  return vscode.commands.registerCommand(Commands.setServerSecret, (target?: ConfiguredServer | string, kind?: ServerSecretKind, value?: string) =>
    reportFailure(setServerSecret(deps, target, kind, value), logger, Commands.setServerSecret));
}

async function setServerSecret(deps: ServerSecretCommandDeps, target: ConfiguredServer | string | undefined, givenKind: ServerSecretKind | undefined, givenValue: string | undefined): Promise<boolean> {
  const server = typeof target === 'string' ? deps.registry.find(target) : target ?? (await pickServer(deps.registry));
  if (!server) {
    if (typeof target === 'string') throw new KeyringError('usage', `${target} is not a configured server`);
    return false;
  }
  const kinds = secretKindsFor(server.entry);
  if (kinds.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} needs no secret: it has no pre-registered confidential client and no machine grant.', displayName(server.entry)));
    return false;
  }
  const kind = givenKind ?? (kinds.length === 1 ? kinds[0] : await pickKind(kinds));
  if (!kind) return false;
  if (!kinds.includes(kind)) throw new KeyringError('usage', `${displayName(server.entry)} does not use a ${kind}`);
  const value = givenValue ?? (await askValue(kind));
  if (value === undefined) return false;
  if (!value.trim()) throw new KeyringError('usage', 'the secret is empty');
  if (kind === 'privateKey') await importPrivateKeyPem(value, server.entry.signingAlg);
  await storeFor(deps, kind).set(server.canonicalUrl, value.trim());
  if (givenValue === undefined) void vscode.window.showInformationMessage(vscode.l10n.t('Stored the {0} of {1}.', kindLabel(kind), displayName(server.entry)));
  return true;
}

function storeFor(deps: ServerSecretCommandDeps, kind: ServerSecretKind): ServerSecrets {
  return kind === 'clientSecret' ? deps.clientSecrets : deps.grantSecrets.of(kind);
}

async function pickServer(registry: ServerRegistry): Promise<ConfiguredServer | undefined> {
  const candidates = registry.list().filter((server) => secretKindsFor(server.entry).length > 0);
  const picked = await vscode.window.showQuickPick(candidates.map((server) => ({ label: displayName(server.entry), description: server.canonicalUrl, server })), { title: vscode.l10n.t('Set a secret for which server?') });
  return picked?.server;
}

async function pickKind(kinds: readonly ServerSecretKind[]): Promise<ServerSecretKind | undefined> {
  const picked = await vscode.window.showQuickPick(kinds.map((secretKind) => ({ label: kindLabel(secretKind), secretKind })), { title: vscode.l10n.t('Which secret?') });
  return picked?.secretKind;
}

async function askValue(kind: ServerSecretKind): Promise<string | undefined> {
  if (kind === 'privateKey') return readPemFile();
  return vscode.window.showInputBox({ title: kindLabel(kind), password: true, ignoreFocusOut: true });
}

async function readPemFile(): Promise<string | undefined> {
  const [file] = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Private key (PKCS#8 PEM)'), canSelectMany: false, filters: { [vscode.l10n.t('PEM files')]: ['pem', 'key'] } }) ?? [];
  if (!file) return undefined;
  const { size } = await vscode.workspace.fs.stat(file);
  if (size > MAX_SECRET_FILE_BYTES) throw new KeyringError('usage', 'the file is too large to be a private key');
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
}

function kindLabel(kind: ServerSecretKind): string {
  switch (kind) {
    case 'clientSecret':
      return vscode.l10n.t('client secret');
    case 'privateKey':
      return vscode.l10n.t('private key (private_key_jwt)');
    case 'assertion':
      return vscode.l10n.t('JWT bearer assertion');
    case 'idpClientSecret':
      return vscode.l10n.t('identity provider client secret');
    case 'idpIdToken':
      return vscode.l10n.t('identity provider ID token');
  }
}
