import assert from 'node:assert/strict';
import type * as oauth from 'oauth4webapi';
import { ClientIdentities, DEVICE_CODE_GRANT, SPARE_REGISTRATIONS_PER_ISSUER, chooseRegistrationAuthMethod, type ClientConfig } from '../../../src/core/clientIdentity';
import { KeyringRepository } from '../../../src/core/records';
import { httpClientOver, json, MemoryStore, rejectsWithCode, routerFetch, type FakeFetch } from './fakes';

const ISSUER = 'https://as.example';
const REGISTER = `${ISSUER}/register`;
/** The fake DNS answers loopback addresses, so the MCP server is taken to be on loopback too. */
const POLICY = { serverAddressClass: 'loopback' as const };
const LOOPBACK = 'http://127.0.0.1:50001/callback';

function authorizationServer(overrides: Partial<oauth.AuthorizationServer> = {}): oauth.AuthorizationServer {
  return { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, registration_endpoint: REGISTER, ...overrides };
}

function harness() {
  let registrations = 0;
  const server: FakeFetch = routerFetch({
    [REGISTER]: (_url, init) => {
      const metadata = JSON.parse(init?.body as string) as Record<string, unknown>;
      registrations++;
      return new Response(JSON.stringify({ ...metadata, client_id: `registered-${registrations}` }), { status: 201, headers: { 'content-type': 'application/json' } });
    },
  });
  const repository = new KeyringRepository(new MemoryStore());
  const identities = new ClientIdentities(httpClientOver(server.fetch), repository, () => 1_000);
  return { server, repository, identities, registrations: () => registrations };
}

describe('choosing the client identity', () => {
  it('presents a configured client without registering, even where registration is open', async () => {
    const h = harness();
    const record = await h.identities.resolve(authorizationServer(), { clientName: 'MCP Keyring', clientId: 'configured' }, LOOPBACK, POLICY);
    assert.equal(record.clientId, 'configured');
    assert.equal(record.origin, 'pre-registered');
    assert.equal(h.registrations(), 0);
  });

  it('uses the client ID metadata document where the server supports it', async () => {
    const h = harness();
    const url = 'https://app.example/client.json';
    const record = await h.identities.resolve(authorizationServer({ client_id_metadata_document_supported: true }), { clientName: 'MCP Keyring', clientMetadataUrl: url }, LOOPBACK, POLICY);
    assert.deepEqual([record.clientId, record.origin, record.authMethod], [url, 'metadata-document', 'none']);
    assert.equal(h.registrations(), 0);
  });

  it('registers instead of presenting the metadata document for a redirect the document cannot list (the editor\'s vscode:// one)', async () => {
    const h = harness();
    const record = await h.identities.resolve(authorizationServer({ client_id_metadata_document_supported: true }), { clientName: 'MCP Keyring', clientMetadataUrl: 'https://app.example/client.json' }, 'vscode://mcp-keyring.mcp-keyring/callback', POLICY);
    assert.deepEqual([record.clientId, record.origin], ['registered-1', 'dynamic-registration']);
  });

  it('fails such a redirect with registration_failed, which another redirect can avoid, where the server has documents but no registration', async () => {
    const h = harness();
    const as = authorizationServer({ client_id_metadata_document_supported: true, registration_endpoint: undefined });
    const error = await rejectsWithCode(h.identities.resolve(as, { clientName: 'MCP Keyring', clientMetadataUrl: 'https://app.example/client.json' }, 'vscode://mcp-keyring.mcp-keyring/callback', POLICY), 'registration_failed');
    assert.match(error.message, /loopback/);
    assert.equal(h.registrations(), 0);
  });

  it('prefers a newly configured metadata document to a remembered registration, which serves again where documents are not supported', async () => {
    const h = harness();
    const url = 'https://app.example/client.json';
    const as = authorizationServer({ client_id_metadata_document_supported: true });
    const registered = await h.identities.resolve(as, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY);
    await h.identities.remember(registered);
    const document = await h.identities.resolve(as, { clientName: 'MCP Keyring', clientMetadataUrl: url }, LOOPBACK, POLICY);
    assert.deepEqual([document.clientId, document.origin], [url, 'metadata-document']);
    await h.identities.remember(document);
    // Where the server stops supporting documents, the remembered document identity is not presented.
    const fallback = await h.identities.resolve(authorizationServer(), { clientName: 'MCP Keyring', clientMetadataUrl: url }, LOOPBACK, POLICY);
    assert.deepEqual([fallback.clientId, fallback.origin], [registered.clientId, 'dynamic-registration']);
    assert.equal(h.registrations(), 1);
  });

  it('registers a native public client with the metadata MCP asks for', async () => {
    const h = harness();
    const record = await h.identities.resolve(authorizationServer({ token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'] }), { clientName: 'MCP Keyring' }, LOOPBACK, POLICY);
    const sent = JSON.parse(h.server.requests[0]?.init?.body as string) as Record<string, unknown>;
    assert.deepEqual(sent, {
      client_name: 'MCP Keyring', redirect_uris: [LOOPBACK], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none', application_type: 'native',
    });
    assert.deepEqual([record.clientId, record.origin], ['registered-1', 'dynamic-registration']);
  });

  describe('registration answers as deployed servers send them', () => {
    const register = (answer: Response) => new ClientIdentities(httpClientOver(routerFetch({ [REGISTER]: () => answer }).fetch), new KeyringRepository(new MemoryStore()), () => 1_000);
    const confidential = authorizationServer({ token_endpoint_auth_methods_supported: ['client_secret_basic'] });

    it('keeps the secret of a registration without client_secret_expires_at, read as never expiring', async () => {
      const identities = register(json({ client_id: 'c1', client_secret: 's1', token_endpoint_auth_method: 'client_secret_basic' }, 201));
      const record = await identities.resolve(confidential, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY);
      assert.deepEqual([record.clientId, record.clientSecret, record.authMethod], ['c1', 's1', 'client_secret_basic']);
    });

    it('takes a registration answered with 200 instead of 201', async () => {
      const identities = register(json({ client_id: 'c2', client_secret: 's2', client_secret_expires_at: 0 }, 200));
      assert.equal((await identities.resolve(confidential, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY)).clientId, 'c2');
    });

    const refused: [string, Response][] = [
      ['without a client id', json({ client_secret: 's3' }, 201)],
      ['with a secret that is not a string', json({ client_id: 'c4', client_secret: 42 }, 201)],
      ['with an expiry that is not a number', json({ client_id: 'c5', client_secret: 's5', client_secret_expires_at: 'never' }, 201)],
      ['as an error', json({ error: 'invalid_client_metadata' }, 400)],
    ];
    for (const [name, answer] of refused) {
      it(`still refuses a registration ${name}`, async () => {
        await rejectsWithCode(register(answer).resolve(confidential, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY), 'registration_failed');
      });
    }
  });

  it('reuses a remembered registration only for the exact redirect URI it was made for, port and query included', async () => {
    const h = harness();
    const as = authorizationServer();
    await h.identities.remember(await h.identities.resolve(as, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY));
    assert.equal((await h.identities.resolve(as, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY)).clientId, 'registered-1');
    // Servers that match exactly refuse another port on their page only, where the engine cannot see it.
    assert.equal((await h.identities.resolve(as, { clientName: 'MCP Keyring' }, 'http://127.0.0.1:50002/callback', POLICY)).clientId, 'registered-2');
    // The web editor's callback carries a per-request id: a registration for one cannot serve another.
    const webCallback = (id: number) => `http://127.0.0.1:8080/stable-1/callback?vscode-reqid=${id}&vscode-scheme=code-oss`;
    await h.identities.remember(await h.identities.resolve(as, { clientName: 'MCP Keyring' }, webCallback(1), POLICY));
    assert.equal((await h.identities.resolve(as, { clientName: 'MCP Keyring' }, webCallback(2), POLICY)).clientId, 'registered-4');
  });

  it('names the loopback ports of its registrations at an issuer, newest first, for the next sign-in to listen on', async () => {
    const repository = new KeyringRepository(new MemoryStore());
    const identities = new ClientIdentities(httpClientOver(routerFetch({}).fetch), repository, () => 1_000);
    const registration = (clientId: string, redirectUris: string[], registeredAt: number, issuer = ISSUER) =>
      repository.putClient({ issuer, clientId, authMethod: 'none', redirectUris, origin: 'dynamic-registration', registeredAt });
    await registration('older', ['http://127.0.0.1:50001/callback'], 1);
    await registration('newer', ['http://127.0.0.1:50003/callback', 'http://127.0.0.1:50001/callback'], 2);
    await registration('editor', ['vscode://mcp-keyring.mcp-keyring/callback'], 3);
    await registration('elsewhere', ['http://127.0.0.1:50009/callback'], 4, 'https://other.example');
    await repository.putClient({ issuer: ISSUER, clientId: 'configured', authMethod: 'none', redirectUris: ['http://127.0.0.1:50008/callback'], origin: 'pre-registered', registeredAt: 5 });
    assert.deepEqual(await identities.registeredLoopbackPorts(ISSUER), [50003, 50001]);
  });

  describe('pruning registrations made for loopback ports that are not used again', () => {
    const credentialOf = (clientId: string, issuer = ISSUER) => ({ serverUrl: 'https://mcp.example/mcp', resource: 'https://mcp.example/mcp', issuer, clientId, account: 'alice', accessToken: 'at', tokenType: 'bearer', scopes: [], obtainedAt: 0, needsSignIn: false });
    const registration = (clientId: string, port: number, registeredAt: number, issuer = ISSUER) =>
      ({ issuer, clientId, authMethod: 'none' as const, redirectUris: [`http://127.0.0.1:${port}/callback`], origin: 'dynamic-registration' as const, registeredAt });
    const stored = async (repository: KeyringRepository, issuer = ISSUER) => (await repository.listClients(issuer)).map((record) => record.clientId).sort();

    it(`keeps the newest ${SPARE_REGISTRATIONS_PER_ISSUER} unused ones besides the one just made, and every one a credential is bound to`, async () => {
      const h = harness();
      for (let i = 1; i <= 6; i++) await h.repository.putClient(registration(`old-${i}`, 50000 + i, i));
      await h.repository.putCredential(credentialOf('old-1'));
      await h.identities.remember(registration('new', 50100, 100));
      assert.deepEqual(await stored(h.repository), ['new', 'old-1', 'old-4', 'old-5', 'old-6']);
      assert.deepEqual(await h.identities.registeredLoopbackPorts(ISSUER), [50100, 50006, 50005, 50004, 50001]);
    });

    it('keeps the one just made even when it is not the newest by its clock, and leaves other issuers, pre-registered clients and device registrations alone', async () => {
      const h = harness();
      for (let i = 1; i <= 4; i++) await h.repository.putClient(registration(`spare-${i}`, 50000 + i, 10 + i));
      await h.repository.putClient(registration('elsewhere', 50009, 0, 'https://other.example'));
      await h.repository.putClient({ issuer: ISSUER, clientId: 'configured', authMethod: 'none', redirectUris: [LOOPBACK], origin: 'pre-registered', registeredAt: 0 });
      await h.repository.putClient({ issuer: ISSUER, clientId: 'device', authMethod: 'none', redirectUris: [], grantTypes: [DEVICE_CODE_GRANT], origin: 'dynamic-registration', registeredAt: 0 });
      await h.identities.remember(registration('just-made', 50200, 1));
      assert.deepEqual(await stored(h.repository), ['configured', 'device', 'just-made', 'spare-2', 'spare-3', 'spare-4']);
      assert.deepEqual(await stored(h.repository, 'https://other.example'), ['elsewhere']);
    });

    it('prunes nothing when a pre-registered client or a device registration is remembered', async () => {
      const h = harness();
      for (let i = 1; i <= 5; i++) await h.repository.putClient(registration(`spare-${i}`, 50000 + i, i));
      await h.identities.remember({ issuer: ISSUER, clientId: 'configured', authMethod: 'none', redirectUris: [LOOPBACK], origin: 'pre-registered', registeredAt: 9 });
      await h.identities.remember({ issuer: ISSUER, clientId: 'device', authMethod: 'none', redirectUris: [], grantTypes: [DEVICE_CODE_GRANT], origin: 'dynamic-registration', registeredAt: 9 });
      assert.equal((await stored(h.repository)).length, 7);
    });
  });

  it('forgets a stored registration no credential is bound to, and keeps one that is in use', async () => {
    const credentialOf = (clientId: string) => ({ serverUrl: 'https://mcp.example/mcp', resource: 'https://mcp.example/mcp', issuer: ISSUER, clientId, account: 'alice', accessToken: 'at', tokenType: 'bearer', scopes: [], obtainedAt: 0, needsSignIn: false });
    const h = harness();
    const as = authorizationServer();
    const unused = await h.identities.resolve(as, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY);
    assert.equal(await h.identities.forgetUnlessInUse(unused), false, 'never stored: nothing to forget');
    await h.identities.remember(unused);
    await h.repository.putCredential(credentialOf('someone-else'));
    assert.equal(await h.identities.forgetUnlessInUse(unused), true);
    assert.equal(await h.repository.getClient(ISSUER, unused.clientId), undefined);
    const used = await h.identities.resolve(as, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY);
    await h.identities.remember(used);
    await h.repository.putCredential(credentialOf(used.clientId));
    assert.equal(await h.identities.forgetUnlessInUse(used), false);
    assert.ok(await h.repository.getClient(ISSUER, used.clientId));
  });

  it('never lends a server\'s pre-registered client (and its secret) to a server configured without one', async () => {
    const h = harness();
    const as = authorizationServer();
    await h.identities.remember(await h.identities.resolve(as, { clientName: 'MCP Keyring', clientId: 'team-app', clientSecret: 'team-secret', authMethod: 'client_secret_post' }, LOOPBACK, POLICY));
    const record = await h.identities.resolve(as, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY);
    assert.equal(record.origin, 'dynamic-registration');
    assert.equal(record.clientSecret, undefined);
  });

  it('keeps identities of different issuers apart', async () => {
    const h = harness();
    await h.identities.remember(await h.identities.resolve(authorizationServer(), { clientName: 'MCP Keyring' }, LOOPBACK, POLICY));
    const other = authorizationServer({ issuer: 'https://other.example', registration_endpoint: undefined });
    await rejectsWithCode(h.identities.resolve(other, { clientName: 'MCP Keyring' }, LOOPBACK, POLICY), 'registration_unavailable');
  });

  it('explains which client id and redirect URI to use when nothing else is possible', async () => {
    const h = harness();
    const error = await rejectsWithCode(h.identities.resolve(authorizationServer({ registration_endpoint: undefined }), { clientName: 'MCP Keyring' }, LOOPBACK, POLICY), 'registration_unavailable');
    assert.equal(error.missing, 'clientId');
    assert.match(error.message, /http:\/\/127\.0\.0\.1\/callback \(any port\)/);
  });

  // The editor shows these too: the engine says what is missing, and each front end names it in its own words.
  const missingPieces: [string, ClientConfig, 'clientId' | 'clientSecret' | 'privateKey'][] = [
    ['a client id for a machine grant', { clientName: 'MCP Keyring' }, 'clientId'],
    ['the secret of client_secret_basic', { clientName: 'MCP Keyring', clientId: 'app', authMethod: 'client_secret_basic' }, 'clientSecret'],
    ['the key of private_key_jwt', { clientName: 'MCP Keyring', clientId: 'app', authMethod: 'private_key_jwt' }, 'privateKey'],
  ];
  for (const [name, config, missing] of missingPieces) {
    it(`says that ${name} is missing without naming a command-line flag`, async () => {
      const error = await rejectsWithCode(harness().identities.preRegistered(authorizationServer(), config), 'usage');
      assert.equal(error.missing, missing);
      assert.doesNotMatch(error.message, /--|MCP_KEYRING_/);
    });
  }

  const methods: [string, string[] | undefined, string][] = [
    ['nothing listed', undefined, 'none'],
    ['none listed', ['client_secret_basic', 'none'], 'none'],
    ['only basic', ['client_secret_basic'], 'client_secret_basic'],
    ['only post', ['private_key_jwt', 'client_secret_post'], 'client_secret_post'],
  ];
  for (const [name, supported, expected] of methods) {
    it(`registers with ${expected} when the server supports ${name}`, () => {
      assert.equal(chooseRegistrationAuthMethod(supported), expected);
    });
  }
});
