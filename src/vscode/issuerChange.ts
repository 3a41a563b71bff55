// A configured client's authorization server changes only with the person's consent: the engine refuses the change
// (`issuer_changed`), and the sign-in runs again at the new issuer once they confirm exactly that issuer.
import { isKeyringError, type ErrorHint } from '../core/errors';

export type IssuerChange = Extract<ErrorHint, { kind: 'issuerChange' }>;

/**
 * Runs `attempt`; when the server turned out to name another authorization server, asks `confirm`, and only on a yes
 * runs it once more, accepting the issuer that was shown. A no leaves the refusal as it was.
 */
export async function withConfirmedIssuerChange<T>(attempt: (acceptIssuer?: string) => Promise<T>, confirm: (change: IssuerChange) => Promise<boolean>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isKeyringError(error, 'issuer_changed') || error.hint?.kind !== 'issuerChange') throw error;
    if (!(await confirm(error.hint))) throw error;
    return attempt(error.hint.issuer);
  }
}
