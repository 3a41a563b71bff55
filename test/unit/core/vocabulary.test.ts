import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CLIENT_AUTH_METHODS, isExtraAuthorizationParameter, isResourceSetting, MACHINE_GRANT_KINDS, REDIRECT_PREFERENCES, RESOURCE_MODES, resourceIndicatorFor,
  STATIC_CREDENTIAL_KINDS,
} from '../../../src/core/vocabulary';

interface SettingSchema {
  readonly enum?: readonly string[];
  readonly properties?: Record<string, SettingSchema>;
  readonly items?: SettingSchema;
  readonly anyOf?: readonly SettingSchema[];
}

const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, SettingSchema> } };
};
const settings = manifest.contributes.configuration.properties;
const serverEntry = settings['mcpKeyring.servers']!.items!.properties!;

describe('the configuration vocabulary', function () {
  const cases: [string, readonly string[] | undefined, readonly string[]][] = [
    ['mcpKeyring.servers[].clientAuthMethod', serverEntry.clientAuthMethod?.enum, CLIENT_AUTH_METHODS],
    ['mcpKeyring.servers[].grant', serverEntry.grant?.enum, MACHINE_GRANT_KINDS],
    ['mcpKeyring.servers[].redirect', serverEntry.redirect?.enum, REDIRECT_PREFERENCES],
    ['mcpKeyring.servers[].resource', serverEntry.resource?.anyOf?.[0]?.enum, RESOURCE_MODES],
    ['mcpKeyring.servers[].staticCredential', serverEntry.staticCredential?.enum, STATIC_CREDENTIAL_KINDS],
    ['mcpKeyring.redirectStrategy', settings['mcpKeyring.redirectStrategy']?.enum, REDIRECT_PREFERENCES],
  ];
  for (const [setting, declared, defined] of cases) {
    it(`offers in package.json's ${setting} exactly the words core defines`, function () {
      assert.deepEqual(declared, [...defined]);
    });
  }
});

describe('the resource setting', function () {
  it('sends the server\'s own resource for auto (and when unset), none for omit, else the URI configured', function () {
    const own = 'https://mcp.example/mcp';
    assert.equal(resourceIndicatorFor(own, undefined), own);
    assert.equal(resourceIndicatorFor(own, 'auto'), own);
    assert.equal(resourceIndicatorFor(own, 'omit'), undefined);
    assert.equal(resourceIndicatorFor(own, 'api://5d1c4a3e'), 'api://5d1c4a3e');
  });

  it('takes auto, omit and absolute URIs without a fragment', function () {
    for (const good of ['auto', 'omit', 'api://5d1c4a3e', 'https://api.example/v1', 'urn:example:api']) assert.ok(isResourceSetting(good), good);
    for (const bad of ['', 'Auto', 'api.example', '/relative', 'https://api.example/#x', 42, null]) assert.ok(!isResourceSetting(bad), String(bad));
  });

  it('lets extra authorization parameters be anything but the protocol\'s own', function () {
    for (const good of ['audience', 'access_type', 'organization', 'login_hint']) assert.ok(isExtraAuthorizationParameter(good), good);
    for (const bad of ['state', 'STATE', 'redirect_uri', 'code_challenge_method', 'scope', 'resource', 'client_id', 'response_type', 'request_uri', '', 'a b']) {
      assert.ok(!isExtraAuthorizationParameter(bad), bad);
    }
  });
});
