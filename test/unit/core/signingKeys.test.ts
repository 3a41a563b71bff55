import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { generateDpopKey, importDpopKey, importPrivateKeyPem } from '../../../src/core/signingKeys';
import { rejectsWithCode } from './fakes';

const generated = new Map<string, string>();

/** A PKCS#8 PEM of each kind, generated once (RSA generation is slow). */
function pkcs8(kind: 'ec-p256' | 'ec-p384' | 'rsa' | 'ed25519'): string {
  const cached = generated.get(kind);
  if (cached) return cached;
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : kind === 'ed25519' ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: kind === 'ec-p256' ? 'P-256' : 'P-384' });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  generated.set(kind, pem);
  return pem;
}

describe('importing a private_key_jwt key', () => {
  const cases: [Parameters<typeof pkcs8>[0], string][] = [['ec-p256', 'ES256'], ['ec-p384', 'ES384'], ['rsa', 'RS256'], ['ed25519', 'EdDSA']];
  for (const [kind, alg] of cases) {
    it(`infers ${alg} from a ${kind} PKCS#8 key and can sign with it`, async () => {
      const imported = await importPrivateKeyPem(pkcs8(kind));
      assert.equal(imported.alg, alg);
      assert.ok(imported.key.usages.includes('sign'));
    });
  }

  it('honours a configured algorithm (RSA-PSS for an RSA key)', async () => {
    assert.equal((await importPrivateKeyPem(pkcs8('rsa'), 'PS256')).alg, 'PS256');
  });

  it('refuses a key of another kind than the configured algorithm, without quoting the key', async () => {
    const pem = pkcs8('rsa');
    const error = await rejectsWithCode(importPrivateKeyPem(pem, 'ES256'), 'usage');
    assert.match(error.message, /not a ES256 key/);
    assert.ok(!error.message.includes(pem.split('\n')[1]!));
  });

  it('refuses an unknown algorithm name', async () => {
    await rejectsWithCode(importPrivateKeyPem(pkcs8('ec-p256'), 'HS256'), 'usage');
  });

  it('names the conversion for a traditional (SEC1/PKCS#1) PEM', async () => {
    const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const error = await rejectsWithCode(importPrivateKeyPem(sec1), 'usage');
    assert.match(error.message, /openssl pkcs8 -topk8 -nocrypt/);
  });

  it('refuses text that is no PEM, and a PEM whose body is not a key', async () => {
    await rejectsWithCode(importPrivateKeyPem('not a key'), 'usage');
    await rejectsWithCode(importPrivateKeyPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'), 'usage');
  });
});

describe('DPoP keys', () => {
  it('round-trips a generated key through its stored JWK: the public half is exportable, the pair signs and verifies', async () => {
    const jwk = await generateDpopKey();
    assert.equal(jwk.kty, 'EC');
    assert.equal(jwk.crv, 'P-256');
    assert.equal(typeof jwk.d, 'string');
    const pair = await importDpopKey(jwk);
    const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
    assert.equal(exported.d, undefined, 'the public JWK carries no private part');
    const data = new TextEncoder().encode('proof');
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data);
    assert.ok(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, signature, data));
  });

  it('refuses a stored key that is not an ES256 private key', async () => {
    const { d, ...publicOnly } = await generateDpopKey();
    assert.ok(d);
    await rejectsWithCode(importDpopKey(publicOnly), 'store_failed');
    await rejectsWithCode(importDpopKey({ kty: 'RSA', n: 'x', e: 'AQAB', d: 'y' }), 'store_failed');
  });
});
