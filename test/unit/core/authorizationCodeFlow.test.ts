import assert from 'node:assert/strict';
import type * as oauth from 'oauth4webapi';
import { AuthorizationCodeFlow } from '../../../src/core/authorizationCodeFlow';
import { ClientIdentities, type ClientConfig } from '../../../src/core/clientIdentity';
import { KeyringError, type ErrorCode } from '../../../src/core/errors';
import { KeyringRepository } from '../../../src/core/records';
import { httpClientOver, json, MemoryStore, recordingLogger, rejectsWithCode, routerFetch } from './fakes';

const ISSUER = 'https://as.example';
const REGISTER = `${ISSUER}/register`;
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';
const METADATA_URL = 'https://client.example/mcp-keyring.json';

const AS: oauth.AuthorizationServer = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  registration_endpoint: REGISTER,
  client_id_metadata_document_supported: true,
};

/** A code flow whose browser never comes back: the receiver's wait ends with `waitError`. */
function flowWhoseWaitFails(waitError: KeyringError, repository = new KeyringRepository(new MemoryStore())): AuthorizationCodeFlow {
  const server = routerFetch({ [REGISTER]: (_url, init) => json({ ...JSON.parse(init?.body as string) as object, client_id: 'registered-1' }, 201) });
  const logger = recordingLogger();
  const http = httpClientOver(server.fetch, { logger });
  return new AuthorizationCodeFlow({
    http,
    identities: new ClientIdentities(http, repository, () => 1_000),
    openUrl: () => Promise.resolve(),
    createReceiver: () => Promise.resolve({ redirectUri: REDIRECT_URI, waitForCallback: () => Promise.reject(waitError), dispose: () => undefined }),
    logger,
  });
}

function run(flow: AuthorizationCodeFlow, client: ClientConfig) {
  return flow.run({ serverUrl: 'https://mcp.example/mcp', as: AS, client, scopes: ['mcp:read'], resource: 'https://mcp.example/mcp', policy: { serverAddressClass: 'loopback' } });
}

describe('a code flow whose browser never comes back', function () {
  const cases: { title: string; client: ClientConfig; waitError: KeyringError; code: ErrorCode; hinted: boolean }[] = [
    { title: 'names the metadata document and the redirect URI it must list when the client is that document', client: { clientName: 'MCP Keyring', clientMetadataUrl: METADATA_URL }, waitError: new KeyringError('timeout', 'no sign-in callback arrived within 300 s'), code: 'timeout', hinted: true },
    { title: 'adds nothing for a registered client, whose redirect URI the server accepted at registration', client: { clientName: 'MCP Keyring' }, waitError: new KeyringError('timeout', 'no sign-in callback arrived within 300 s'), code: 'timeout', hinted: false },
    { title: 'adds nothing when the person cancelled', client: { clientName: 'MCP Keyring', clientMetadataUrl: METADATA_URL }, waitError: new KeyringError('cancelled', 'sign-in was cancelled'), code: 'cancelled', hinted: false },
  ];
  for (const { title, client, waitError, code, hinted } of cases) {
    it(title, async function () {
      const error = await rejectsWithCode(run(flowWhoseWaitFails(waitError), client), code);
      assert.ok(error.message.startsWith(waitError.message));
      assert.equal(error.message.includes(`${METADATA_URL} is reachable from it and lists the redirect URI http://127.0.0.1/callback (any port)`), hinted);
    });
  }
});

describe('a code flow whose browser never comes back with a registration made earlier', function () {
  const registration = { issuer: ISSUER, clientId: 'registered-earlier', authMethod: 'none', redirectUris: [REDIRECT_URI], origin: 'dynamic-registration', registeredAt: 1 } as const;
  const credential = { serverUrl: 'https://other.example/mcp', resource: 'https://other.example/mcp', issuer: ISSUER, clientId: registration.clientId, account: 'alice', accessToken: 'at', tokenType: 'bearer', scopes: [], obtainedAt: 0, needsSignIn: false };

  for (const waitCode of ['timeout', 'cancelled'] as const) {
    it(`forgets it after ${waitCode} when no credential uses it, so the next sign-in registers anew`, async function () {
      const repository = new KeyringRepository(new MemoryStore());
      await repository.putClient(registration);
      const error = await rejectsWithCode(run(flowWhoseWaitFails(new KeyringError(waitCode, 'no callback'), repository), { clientName: 'MCP Keyring' }), waitCode);
      assert.equal(await repository.getClient(ISSUER, registration.clientId), undefined);
      assert.equal(error.message.includes('may no longer know the client registered there earlier'), waitCode === 'timeout');
    });
  }

  it('keeps it when a credential uses it, and says nothing of it', async function () {
    const repository = new KeyringRepository(new MemoryStore());
    await repository.putClient(registration);
    await repository.putCredential(credential);
    const error = await rejectsWithCode(run(flowWhoseWaitFails(new KeyringError('timeout', 'no callback'), repository), { clientName: 'MCP Keyring' }), 'timeout');
    assert.ok(await repository.getClient(ISSUER, registration.clientId));
    assert.equal(error.message, 'no callback');
  });
});
