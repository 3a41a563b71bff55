// A sign-in refused with invalid_client for a dynamically registered client means the server has forgotten the
// registration: forget it too, register again, and try once more. Shared by every interactive flow.
import type { ClientIdentities } from './clientIdentity';
import { KeyringError, isKeyringError } from './errors';
import type { Logger } from './ports';
import type { ClientRecord } from './records';

/** An attempt's outcome when its registration went stale. */
export interface StaleRegistration {
  readonly staleClient: ClientRecord;
  readonly error: KeyringError;
}

/** The stale registration `error` reveals for `client`, or the error itself rethrown. */
export function staleRegistrationOr(error: unknown, client: ClientRecord): StaleRegistration {
  if (isKeyringError(error, 'invalid_client') && client.origin === 'dynamic-registration') return { staleClient: client, error };
  throw error;
}

export async function withFreshRegistrationOnce<T extends object>(identities: ClientIdentities, logger: Logger, attempt: () => Promise<T | StaleRegistration>): Promise<T> {
  const first = await attempt();
  if (!('staleClient' in first)) return first;
  logger.warn('[signIn] the authorization server no longer knows the registered client; registering again');
  await identities.forget(first.staleClient);
  const second = await attempt();
  if ('staleClient' in second) throw new KeyringError('invalid_client', `the authorization server rejected a freshly registered client too: ${second.error.message}`, { cause: second.error });
  return second;
}
