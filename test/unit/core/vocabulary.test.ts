import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLIENT_AUTH_METHODS, MACHINE_GRANT_KINDS, REDIRECT_PREFERENCES, RESOURCE_MODES, STATIC_CREDENTIAL_KINDS } from '../../../src/core/vocabulary';

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
