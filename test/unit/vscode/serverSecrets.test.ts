import assert from 'node:assert/strict';
import { serverKeyId } from '../../../src/core/records';
import { ClientSecrets, StaticCredentials } from '../../../src/vscode/serverSecrets';
import { SecretBackend } from './fakes';

describe('per-server secrets in SecretStorage', function () {
  const withKey = 'https://mcp.example/mcp?api_key=planted-query-key';
  const otherQuery = 'https://mcp.example/mcp?api_key=another';

  it('are kept under the server\'s opaque id: no URL or query in any key name, and servers differing only in query apart', async function () {
    const backend = new SecretBackend();
    const secrets = new ClientSecrets(backend.window('A'));
    await secrets.set(withKey, 'first-secret');
    await secrets.set(otherQuery, 'second-secret');
    for (const key of backend.values.keys()) assert.ok(!key.includes('mcp.example') && !key.includes('planted'), key);
    assert.equal(await secrets.get(withKey), 'first-secret');
    assert.equal(await secrets.get(otherQuery), 'second-secret');
  });

  it('move a secret stored under the URL (the layout before) on first read, so nobody enters it again', async function () {
    const backend = new SecretBackend();
    backend.values.set(`mcpKeyring/staticCredential/${withKey}`, 'kept-api-key');
    const credentials = new StaticCredentials(backend.window('A'));
    assert.equal(await credentials.get(withKey), 'kept-api-key');
    assert.deepEqual([...backend.values.keys()], [`mcpKeyring/staticCredential/${await serverKeyId(withKey)}`]);
    assert.equal(await credentials.get(withKey), 'kept-api-key');
  });

  it('delete a server\'s secret under both layouts', async function () {
    const backend = new SecretBackend();
    backend.values.set(`mcpKeyring/clientSecret/${withKey}`, 'old-layout');
    const secrets = new ClientSecrets(backend.window('A'));
    await secrets.set(otherQuery, 'stays');
    await secrets.delete(withKey);
    assert.deepEqual([...backend.values.keys()], [`mcpKeyring/clientSecret/${await serverKeyId(otherQuery)}`]);
  });
});
