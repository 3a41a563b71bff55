import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findChallenge, parseChallenges, type Challenge } from '../../../src/core/challenge';

describe('parseChallenges', () => {
  const cases: { name: string; header: string; expected: Challenge[] }[] = [
    {
      name: 'a single Bearer challenge with quoted parameters',
      header: 'Bearer realm="mcp", error="invalid_token"',
      expected: [{ scheme: 'bearer', params: { realm: 'mcp', error: 'invalid_token' } }],
    },
    {
      name: 'several challenges in one header',
      header: 'Bearer realm="x", error="invalid_token", DPoP algs="ES256"',
      expected: [
        { scheme: 'bearer', params: { realm: 'x', error: 'invalid_token' } },
        { scheme: 'dpop', params: { algs: 'ES256' } },
      ],
    },
    {
      name: 'a token68 credential',
      header: 'Basic abc==',
      expected: [{ scheme: 'basic', params: {}, token68: 'abc==' }],
    },
    {
      name: 'a token68 challenge followed by a parameterised one',
      header: 'Basic abc==, Bearer realm="x"',
      expected: [
        { scheme: 'basic', params: {}, token68: 'abc==' },
        { scheme: 'bearer', params: { realm: 'x' } },
      ],
    },
    {
      name: 'a scheme with no parameters',
      header: 'Negotiate',
      expected: [{ scheme: 'negotiate', params: {} }],
    },
    {
      name: 'schemes without parameters separated by commas',
      header: 'Negotiate, NTLM',
      expected: [{ scheme: 'negotiate', params: {} }, { scheme: 'ntlm', params: {} }],
    },
    {
      name: 'unquoted token values',
      header: 'Bearer error=invalid_token, scope=read',
      expected: [{ scheme: 'bearer', params: { error: 'invalid_token', scope: 'read' } }],
    },
    {
      name: 'backslash escapes and commas inside quoted strings',
      header: 'Bearer realm="a, b \\"c\\" \\\\ d", error="x"',
      expected: [{ scheme: 'bearer', params: { realm: 'a, b "c" \\ d', error: 'x' } }],
    },
    {
      name: 'scheme and parameter names in any case',
      header: 'BEARER Realm="x", ERROR="invalid_token"',
      expected: [{ scheme: 'bearer', params: { realm: 'x', error: 'invalid_token' } }],
    },
    {
      name: 'the first occurrence of a repeated parameter',
      header: 'Bearer scope="first", Scope="second"',
      expected: [{ scheme: 'bearer', params: { scope: 'first' } }],
    },
    {
      name: 'spaces around "=" and empty list elements',
      header: ' ,, Bearer  realm = "x" ,, error = "y" , ',
      expected: [{ scheme: 'bearer', params: { realm: 'x', error: 'y' } }],
    },
    {
      name: 'an empty quoted value',
      header: 'Bearer realm=""',
      expected: [{ scheme: 'bearer', params: { realm: '' } }],
    },
  ];
  for (const { name, header, expected } of cases) {
    it(`reads ${name}`, () => {
      assert.deepEqual(parseChallenges(header), expected);
    });
  }

  const empty: [string, string | null | undefined][] = [
    ['null', null],
    ['undefined', undefined],
    ['an empty string', ''],
    ['whitespace', '   \t '],
    ['only commas', ',,, ,'],
    ['only punctuation', '=== "" ;;'],
  ];
  for (const [name, header] of empty) {
    it(`finds no challenge in ${name}`, () => {
      assert.deepEqual(parseChallenges(header), []);
    });
  }

  it('keeps the parameters read before an unterminated quoted string and drops the broken one', () => {
    assert.deepEqual(parseChallenges('Bearer realm="x", error="invalid_tok'), [{ scheme: 'bearer', params: { realm: 'x' } }]);
  });

  it('keeps the parameters read before a trailing backslash inside a quoted string', () => {
    assert.deepEqual(parseChallenges('Bearer realm="x", error="abc\\'), [{ scheme: 'bearer', params: { realm: 'x' } }]);
  });

  it('stops at garbage and keeps what came before it', () => {
    const challenges = parseChallenges('Bearer realm="x" @@@ error="y"');
    assert.deepEqual(challenges[0], { scheme: 'bearer', params: { realm: 'x' } });
    assert.ok(challenges.every((challenge) => challenge.params.error === undefined));
  });

  // Names are data: a plain object would see Object.prototype's `constructor` and swallow `__proto__` in its setter.
  it('reads parameters whose names are also Object.prototype members', () => {
    const [challenge] = parseChallenges('Bearer constructor="a", __proto__="b", realm="r"');
    assert.ok(challenge);
    assert.deepEqual(Object.keys(challenge.params).sort(), ['__proto__', 'constructor', 'realm']);
    assert.equal(Object.getOwnPropertyDescriptor(challenge.params, 'constructor')?.value, 'a');
    assert.equal(Object.getOwnPropertyDescriptor(challenge.params, '__proto__')?.value, 'b');
  });

  it('gives an MCP client the resource_metadata, scope and error of a 403 challenge', () => {
    const header = 'Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp", error_description="needs write"';
    const bearer = findChallenge(parseChallenges(header), 'Bearer');
    assert.ok(bearer);
    assert.equal(bearer.params.error, 'insufficient_scope');
    assert.equal(bearer.params.scope, 'files:read files:write');
    assert.equal(bearer.params.resource_metadata, 'https://mcp.example/.well-known/oauth-protected-resource/mcp');
  });

  it('finds the Bearer resource_metadata when a DPoP challenge comes first', () => {
    const header = 'DPoP algs="ES256 PS256", error="use_dpop_nonce", Bearer resource_metadata="https://mcp.example/prm"';
    assert.equal(findChallenge(parseChallenges(header), 'bearer')?.params.resource_metadata, 'https://mcp.example/prm');
  });

  it('parses only the head of a very long header, quickly', () => {
    const header = `Bearer realm="x", ${'a'.repeat(2_000_000)}="y", error="late"`;
    const started = performance.now();
    const challenges = parseChallenges(header);
    assert.ok(performance.now() - started < 500, 'parsing took too long');
    assert.equal(challenges[0]?.params.realm, 'x');
    assert.equal(challenges[0]?.params.error, undefined);
  });

  it('ignores parameters that start beyond the length bound', () => {
    const padding = `Bearer realm="${'p'.repeat(20_000)}"`;
    const challenges = parseChallenges(`${padding}, Bearer resource_metadata="https://evil.example/prm"`);
    assert.ok(challenges.every((challenge) => challenge.params.resource_metadata === undefined));
  });

  it('never throws and always returns challenges with lower-case schemes, whatever the input', () => {
    const headerish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(fc.constantFrom('Bearer', 'DPoP', 'Basic', ' ', ',', '=', '"', '\\', 'realm', 'x', 'a==', '\t', 'é', 'Ä'), { maxLength: 40 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(headerish, (header) => {
        const challenges = parseChallenges(header);
        assert.ok(Array.isArray(challenges));
        for (const challenge of challenges) {
          assert.equal(typeof challenge, 'object');
          assert.ok(challenge.scheme.length > 0);
          assert.equal(challenge.scheme, challenge.scheme.toLowerCase());
          for (const name of Object.keys(challenge.params)) assert.equal(name, name.toLowerCase());
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('findChallenge', () => {
  const challenges = parseChallenges('DPoP algs="ES256", Bearer realm="first", Bearer realm="second"');

  it('finds the first challenge of a scheme, whatever the case of the name asked for', () => {
    assert.equal(findChallenge(challenges, 'BEARER')?.params.realm, 'first');
  });

  it('finds nothing for a scheme that is absent', () => {
    assert.equal(findChallenge(challenges, 'basic'), undefined);
  });
});
