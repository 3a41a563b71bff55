import assert from 'node:assert/strict';
import { KeyringError } from '../../../src/core/errors';
import { withConfirmedIssuerChange, type IssuerChange } from '../../../src/vscode/issuerChange';
import { rejectsWithCode } from '../core/fakes';

const change: IssuerChange = { kind: 'issuerChange', previousIssuer: 'https://as.example', issuer: 'https://other.example' };
const issuerChanged = new KeyringError('issuer_changed', 'the server names another authorization server', { hint: change });

/** A sign-in that the engine refuses until it is told to accept `change.issuer`, recording what it was told. */
function signInRefusingTheChange(): { readonly accepted: (string | undefined)[]; readonly attempt: (acceptIssuer?: string) => Promise<string> } {
  const accepted: (string | undefined)[] = [];
  return {
    accepted,
    attempt: (acceptIssuer) => {
      accepted.push(acceptIssuer);
      return acceptIssuer === change.issuer ? Promise.resolve('signed in') : Promise.reject(issuerChanged);
    },
  };
}

describe('withConfirmedIssuerChange', () => {
  it('signs in at the new authorization server only after the person confirmed exactly that one', async () => {
    const signIn = signInRefusingTheChange();
    const asked: IssuerChange[] = [];
    const result = await withConfirmedIssuerChange(signIn.attempt, (shown) => {
      asked.push(shown);
      return Promise.resolve(true);
    });
    assert.equal(result, 'signed in');
    assert.deepEqual(asked, [change]);
    assert.deepEqual(signIn.accepted, [undefined, change.issuer]);
  });

  it('keeps the refusal and signs in nowhere when the person declines', async () => {
    const signIn = signInRefusingTheChange();
    await rejectsWithCode(withConfirmedIssuerChange(signIn.attempt, () => Promise.resolve(false)), 'issuer_changed');
    assert.deepEqual(signIn.accepted, [undefined]);
  });

  it('asks nothing for other failures', async () => {
    let asked = false;
    const failing = () => Promise.reject(new KeyringError('access_denied', 'denied'));
    await rejectsWithCode(withConfirmedIssuerChange(failing, () => Promise.resolve((asked = true))), 'access_denied');
    assert.equal(asked, false);
  });
});
