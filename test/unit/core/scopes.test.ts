import assert from 'node:assert/strict';
import fc from 'fast-check';
import { includesAll, parseScope, selectScopes, unionScopes, type ScopeSources } from '../../../src/core/scopes';

describe('selectScopes', () => {
  const cases: { name: string; sources: ScopeSources; expected: string[] }[] = [
    { name: 'configured scopes over everything servers suggest', sources: { configured: ['mine'], challenged: ['challenged'], resourceSupported: ['supported'] }, expected: ['mine'] },
    { name: 'challenged scopes when nothing is configured', sources: { challenged: ['challenged'], resourceSupported: ['supported'] }, expected: ['challenged'] },
    { name: 'challenged scopes when the configured list is empty', sources: { configured: [], challenged: ['challenged'] }, expected: ['challenged'] },
    { name: "the resource's scopes_supported when there is no challenge scope", sources: { challenged: [], resourceSupported: ['a', 'b'] }, expected: ['a', 'b'] },
    { name: 'no scopes at all rather than an invented default', sources: {}, expected: [] },
    { name: 'no scopes when every list is empty', sources: { configured: [], challenged: [], resourceSupported: [] }, expected: [] },
    { name: 'offline_access appended when the authorization server lists it', sources: { challenged: ['read'], authorizationServerSupported: ['read', 'offline_access'] }, expected: ['read', 'offline_access'] },
    { name: 'no offline_access when the authorization server does not list it', sources: { challenged: ['read'], authorizationServerSupported: ['read', 'write'] }, expected: ['read'] },
    { name: 'no offline_access when the authorization server lists no scopes', sources: { challenged: ['read'] }, expected: ['read'] },
    { name: 'no offline_access alone when there is no base scope', sources: { authorizationServerSupported: ['offline_access'] }, expected: [] },
    { name: 'offline_access only once when configured already', sources: { configured: ['offline_access', 'read'], authorizationServerSupported: ['offline_access'] }, expected: ['offline_access', 'read'] },
    { name: 'duplicates removed from the chosen source', sources: { resourceSupported: ['a', 'b', 'a'] }, expected: ['a', 'b'] },
  ];
  for (const { name, sources, expected } of cases) {
    it(`chooses ${name}`, () => {
      assert.deepEqual(selectScopes(sources), expected);
    });
  }
});

describe('unionScopes', () => {
  it('keeps first-seen order without duplicates', () => {
    assert.deepEqual(unionScopes(['b', 'a'], ['a', 'c', 'b'], undefined, ['d']), ['b', 'a', 'c', 'd']);
  });

  it('is empty for no lists', () => {
    assert.deepEqual(unionScopes(), []);
  });

  it('contains every scope of every list exactly once, in first-seen order', () => {
    const scope = fc.constantFrom('a', 'b', 'c', 'd', 'offline_access', 'files:read');
    fc.assert(
      fc.property(fc.array(fc.array(scope, { maxLength: 6 }), { maxLength: 4 }), (lists) => {
        const union = unionScopes(...lists);
        const flat = lists.flat();
        assert.equal(new Set(union).size, union.length);
        assert.deepEqual(new Set(union), new Set(flat));
        assert.deepEqual(union, flat.filter((item, index) => flat.indexOf(item) === index));
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseScope', () => {
  const cases: [string | null | undefined, string[]][] = [
    [undefined, []],
    [null, []],
    ['', []],
    ['   ', []],
    ['read', ['read']],
    ['read write', ['read', 'write']],
    ['  read \t write\nread  ', ['read', 'write']],
  ];
  for (const [value, expected] of cases) {
    it(`reads ${JSON.stringify(value)} as ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseScope(value), expected);
    });
  }
});

describe('includesAll', () => {
  const cases: [string[], string[], boolean][] = [
    [['a', 'b'], ['a'], true],
    [['a', 'b'], ['b', 'a'], true],
    [['a'], [], true],
    [['a'], ['a', 'b'], false],
    [[], ['a'], false],
  ];
  for (const [granted, wanted, expected] of cases) {
    it(`says ${expected} for granted ${JSON.stringify(granted)} and wanted ${JSON.stringify(wanted)}`, () => {
      assert.equal(includesAll(granted, wanted), expected);
    });
  }
});
