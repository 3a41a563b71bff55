// Turns a store change made by another editor window into the credential change it means for this window.
import type { CredentialChange } from '../core/events';
import type { Keyring } from '../core/keyring';
import { decodeStoreKey } from '../core/records';

export async function changeFromOtherWindow(keyring: Keyring, storeKey: string): Promise<CredentialChange | undefined> {
  const subject = decodeStoreKey(storeKey);
  if (subject.kind === 'server') {
    const [status] = await keyring.status(subject.serverUrl).catch(() => []);
    return { serverUrl: subject.serverUrl, kind: status ? 'signedIn' : 'signedOut' };
  }
  if (subject.kind !== 'credential') return undefined;
  const { resource, issuer, clientId, account } = subject.credential;
  const statuses = await keyring.status().catch(() => []);
  const owner = statuses.find((status) => status.resource === resource && status.issuer === issuer && status.clientId === clientId && status.account === account);
  if (!owner) return undefined;
  return { serverUrl: owner.serverUrl, kind: owner.needsSignIn ? 'needsSignIn' : 'refreshed' };
}
