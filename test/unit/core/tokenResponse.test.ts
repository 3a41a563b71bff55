import assert from 'node:assert/strict';
import { normalizeTokenResponse } from '../../../src/core/tokenResponse';

const json = (body: unknown, status = 200) => Response.json(body, { status });

describe('token endpoint answers as deployed servers send them', () => {
  it('reads an OAuth error answered with HTTP 200 (GitHub) as the 400 RFC 6749 gives it, body unchanged', async () => {
    const body = { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' };
    const normalized = await normalizeTokenResponse(json(body));
    assert.equal(normalized.status, 400);
    assert.deepEqual(await normalized.json(), body);
  });

  const untouched: [string, Response][] = [
    ['a success', json({ access_token: 'a', token_type: 'bearer' })],
    ['a 200 with an access token and an error member', json({ access_token: 'a', token_type: 'bearer', error: 'x' })],
    ['a real error status', json({ error: 'invalid_grant' }, 400)],
    ['a body that is not JSON', new Response('access_token=a&token_type=bearer', { status: 200 })],
    ['a JSON array', json([{ error: 'x' }])],
  ];
  for (const [name, response] of untouched) {
    it(`leaves ${name} alone`, async () => {
      assert.equal(await normalizeTokenResponse(response), response);
    });
  }
});
