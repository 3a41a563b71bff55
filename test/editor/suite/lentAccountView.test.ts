// How the view words an account the editor's own GitHub account lent, in the real extension host (its strings go through
// vscode.l10n): built from stored state alone, as the view builds it, with no server and no sign-in.
import assert from 'node:assert/strict';
import type { CredentialStatus } from '../../../src/core/keyring';
import type { ConfiguredServer } from '../../../src/vscode/configuredServer';
import { editorClientId } from '../../../src/vscode/editorAccountProviders';
import { accountItem } from '../../../src/vscode/serverTree';
import { accountFacts } from '../../../src/vscode/serverTreeModel';

const NOW = Date.UTC(2026, 11, 5, 6, 0);
const server = { routeId: 'lent-route', canonicalUrl: 'https://mcp.example/mcp' } as ConfiguredServer;

/** A GitHub account lent by the editor, as the engine reports it: no refresh token, no expiry. */
function lentStatus(overrides: Partial<CredentialStatus> = {}): CredentialStatus {
  return {
    serverUrl: server.canonicalUrl,
    resource: server.canonicalUrl,
    issuer: 'https://github.com/login/oauth',
    clientId: editorClientId('github'),
    account: 'octocat',
    accountId: 'account-1',
    isPreferred: true,
    scopes: ['repo'],
    obtainedAt: NOW - 60_000,
    hasRefreshToken: false,
    dpopBound: false,
    needsSignIn: false,
    ...overrides,
  };
}

function hoverOf(status: CredentialStatus): { description: string; lines: string[] } {
  const item = accountItem({ kind: 'account', server, status, facts: accountFacts(status, 60_000) }, NOW);
  assert.ok(typeof item.tooltip === 'string', 'the hover is plain text, never markdown');
  return { description: String(item.description), lines: item.tooltip.split('\n') };
}

suite('the view\'s words for an account the editor lent', () => {
  test('names the editor\'s GitHub account as the client and as what renews the token', () => {
    const { description, lines } = hoverOf(lentStatus());
    assert.equal(description, 'no expiry');
    assert.ok(lines.includes('Client: the editor\'s GitHub account'), lines.join(' | '));
    assert.ok(lines.includes('Next refresh: by the editor\'s GitHub account, when the token is due or refused'), lines.join(' | '));
    assert.ok(!lines.some((line) => line.includes('vscode-authentication:')), 'the internal client id is not shown');
  });

  test('says that an account signed out of in the editor needs sign-in, and why', () => {
    const { description, lines } = hoverOf(lentStatus({ needsSignIn: true, lastRefresh: { at: NOW - 1_000, outcome: 'rejected', code: 'signed_out' } }));
    assert.equal(description, 'Needs sign-in');
    assert.ok(lines.some((line) => /^Last refresh: refused .+ \(signed_out\); sign in again$/.test(line)), lines.join(' | '));
  });
});
