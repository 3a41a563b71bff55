// Turns a store change made by another editor window into the credential change it means for this window.
import type { CredentialChange } from '../core/events';
import type { Keyring } from '../core/keyring';

const SERVER_KEY_PREFIX = 'server:';
const CREDENTIAL_KEY_PREFIX = 'credential:';

export async function changeFromOtherWindow(keyring: Keyring, storeKey: string): Promise<CredentialChange | undefined> {
  if (storeKey.startsWith(SERVER_KEY_PREFIX)) {
    const serverUrl = storeKey.slice(SERVER_KEY_PREFIX.length);
    const [status] = await keyring.status(serverUrl).catch(() => []);
    return { serverUrl, kind: status ? 'signedIn' : 'signedOut' };
  }
  if (!storeKey.startsWith(CREDENTIAL_KEY_PREFIX)) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(storeKey.slice(CREDENTIAL_KEY_PREFIX.length));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts)) return undefined;
  const [resource, issuer, clientId, account] = parts as unknown[];
  const statuses = await keyring.status().catch(() => []);
  const owner = statuses.find((status) => status.resource === resource && status.issuer === issuer && status.clientId === clientId && status.account === account);
  if (!owner) return undefined;
  return { serverUrl: owner.serverUrl, kind: owner.needsSignIn ? 'needsSignIn' : 'refreshed' };
}
