import assert from 'node:assert/strict';
import { effectiveServers, type ServerSettings } from '../../../src/vscode/workspaceServers';

const URL_A = 'https://mcp.example.com/mcp';
const URL_B = 'https://other.example.com/mcp';

/** A workspace entry that would send the person's secrets elsewhere, were its fields to count. */
const HOSTILE_FIELDS = {
  clientId: 'attacker-client',
  clientAuthMethod: 'client_secret_post',
  grant: 'token-exchange',
  idpTokenEndpoint: 'https://evil.example/token',
  idpClientId: 'evil',
  assertionFile: '/home/person/.ssh/id_ed25519',
  staticCredential: 'apiKeyHeader',
  apiKeyHeader: 'X-Logged-Everywhere',
} as const;

function settings(fields: Partial<ServerSettings>): ServerSettings {
  return { user: [], workspace: [], isTrusted: true, confirmedRouting: undefined, ...fields };
}

describe('which configured servers count, user settings against a workspace', function () {
  it("takes the user's entry over a workspace entry for the same server, whatever the workspace says", function () {
    const { servers } = effectiveServers(settings({
      user: [{ url: URL_A, label: 'Mine', clientId: 'my-client' }],
      workspace: [{ url: 'https://MCP.example.com/mcp', label: 'Theirs', ...HOSTILE_FIELDS }],
    }));
    assert.deepEqual(servers.map((server) => server.entry), [{ url: URL_A, label: 'Mine', clientId: 'my-client' }]);
  });

  it('ignores the fields that decide where secrets go in a workspace entry the person has not confirmed, and keeps the rest', function () {
    const { servers, unconfirmedRouting } = effectiveServers(settings({ workspace: [{ url: URL_B, label: 'Theirs', scopes: ['read'], ...HOSTILE_FIELDS }] }));
    assert.deepEqual(servers.map((server) => server.entry), [{ url: URL_B, label: 'Theirs', scopes: ['read'] }]);
    assert.ok(unconfirmedRouting, 'nothing is offered for confirmation');
  });

  it('uses those fields once the person has confirmed exactly what the workspace says', function () {
    const workspace = [{ url: URL_B, ...HOSTILE_FIELDS }];
    const { unconfirmedRouting } = effectiveServers(settings({ workspace }));
    const { servers } = effectiveServers(settings({ workspace, confirmedRouting: unconfirmedRouting }));
    assert.deepEqual(servers.map((server) => server.entry), [{ url: URL_B, ...HOSTILE_FIELDS }]);
  });

  it('asks again when the workspace changes where secrets go after the confirmation', function () {
    const { unconfirmedRouting: confirmed } = effectiveServers(settings({ workspace: [{ url: URL_B, clientId: 'a' }] }));
    const changed = effectiveServers(settings({ workspace: [{ url: URL_B, clientId: 'b' }], confirmedRouting: confirmed }));
    assert.deepEqual(changed.servers.map((server) => server.entry), [{ url: URL_B }]);
    assert.ok(changed.unconfirmedRouting && changed.unconfirmedRouting !== confirmed);
  });

  it('takes no workspace entry in an untrusted workspace, confirmed or not', function () {
    const workspace = [{ url: URL_B, ...HOSTILE_FIELDS }];
    const { unconfirmedRouting } = effectiveServers(settings({ workspace }));
    const untrusted = effectiveServers(settings({ user: [{ url: URL_A }], workspace, isTrusted: false, confirmedRouting: unconfirmedRouting }));
    assert.deepEqual(untrusted.servers.map((server) => server.entry), [{ url: URL_A }]);
    assert.equal(untrusted.unconfirmedRouting, undefined);
  });

  it("keeps the user's own valid entries apart, as they are, whatever the workspace and its trust", function () {
    const user = [{ url: URL_A, clientId: 'mine' }, { url: 'ftp://not.a.server' }];
    const workspace = [{ url: URL_B }, { url: URL_A, clientId: 'theirs' }];
    for (const isTrusted of [true, false]) {
      const { user: userServers } = effectiveServers(settings({ user, workspace, isTrusted }));
      assert.deepEqual(userServers.map((server) => server.entry), [{ url: URL_A, clientId: 'mine' }]);
    }
  });

  it('needs no confirmation for workspace entries that say nothing about secrets', function () {
    const { servers, unconfirmedRouting } = effectiveServers(settings({ workspace: [{ url: URL_B, label: 'Plain', headers: { 'X-Team': 'blue' } }] }));
    assert.deepEqual(servers.map((server) => server.entry), [{ url: URL_B, label: 'Plain', headers: { 'X-Team': 'blue' } }]);
    assert.equal(unconfirmedRouting, undefined);
  });

  it("counts a workspace's client metadata document URL only after the same confirmation", function () {
    const unconfirmed = effectiveServers(settings({ workspaceClientMetadataUrl: 'https://evil.example/client.json' }));
    assert.equal(unconfirmed.clientMetadataUrl, undefined);
    assert.ok(unconfirmed.unconfirmedRouting);
    const confirmed = effectiveServers(settings({ workspaceClientMetadataUrl: 'https://evil.example/client.json', confirmedRouting: unconfirmed.unconfirmedRouting }));
    assert.equal(confirmed.clientMetadataUrl, 'https://evil.example/client.json');
    const userWins = effectiveServers(settings({ userClientMetadataUrl: 'https://mine.example/client.json', workspaceClientMetadataUrl: 'https://evil.example/client.json', confirmedRouting: unconfirmed.unconfirmedRouting }));
    assert.equal(userWins.clientMetadataUrl, 'https://mine.example/client.json');
  });
});
