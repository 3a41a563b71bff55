// Private keys the client signs with: the `private_key_jwt` client key (RFC 7523 §2.2), read from a PKCS#8 PEM the
// user supplies, and DPoP keys (RFC 9449), generated here and kept as private JWKs beside the token they bind.
// Web Crypto only, so the engine stays free of Node modules.
import * as oauth from 'oauth4webapi';
import { KeyringError } from './errors';

/** The JWS algorithms a client key may use, with the Web Crypto parameters to import it. */
const IMPORT_PARAMETERS = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
} as const satisfies Record<string, EcKeyImportParams | RsaHashedImportParams | Algorithm>;

export type SigningAlg = keyof typeof IMPORT_PARAMETERS;

export const SIGNING_ALGS = Object.keys(IMPORT_PARAMETERS) as SigningAlg[];

/** When no algorithm is configured, the first that the key imports as (an RSA key never imports as ECDSA). */
const INFERENCE_ORDER: readonly SigningAlg[] = ['ES256', 'ES384', 'RS256', 'EdDSA'];

export function isSigningAlg(value: string): value is SigningAlg {
  return Object.hasOwn(IMPORT_PARAMETERS, value);
}

export interface ImportedKey {
  readonly key: CryptoKey;
  readonly alg: SigningAlg;
}

/** Imports a PKCS#8 PEM private key for signing. Errors never quote the key. */
export async function importPrivateKeyPem(pem: string, alg?: string): Promise<ImportedKey> {
  const der = pemToDer(pem);
  if (alg !== undefined && !isSigningAlg(alg)) {
    throw new KeyringError('usage', `unsupported signing algorithm ${/^[\w-]{1,20}$/.test(alg) ? alg : ''}; use one of ${SIGNING_ALGS.join(', ')}`);
  }
  for (const candidate of alg ? [alg] : INFERENCE_ORDER) {
    try {
      const key = await crypto.subtle.importKey('pkcs8', der, IMPORT_PARAMETERS[candidate], false, ['sign']);
      return { key, alg: candidate };
    } catch {
      // Not this algorithm's key type; try the next.
    }
  }
  throw new KeyringError('usage', alg ? `the private key is not a ${alg} key` : `the private key is none of the supported kinds (${INFERENCE_ORDER.join(', ')})`);
}

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem);
  if (!match) {
    const hint = /-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(pem) ? ' (convert it with `openssl pkcs8 -topk8 -nocrypt`)' : '';
    throw new KeyringError('usage', `the private key is not an unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY")${hint}`);
  }
  try {
    const binary = atob(match[1]!.replace(/\s+/g, ''));
    return Uint8Array.from(binary, (character) => character.charCodeAt(0));
  } catch {
    throw new KeyringError('usage', 'the private key PEM is not valid base64');
  }
}

/** A fresh ES256 DPoP key, exported as a private JWK so it can be stored with the token it binds. */
export async function generateDpopKey(): Promise<JsonWebKey> {
  const { privateKey } = await oauth.generateKeyPair('ES256', { extractable: true });
  return crypto.subtle.exportKey('jwk', privateKey);
}

/** The key pair behind a stored DPoP JWK; the public half must be extractable for the proof's `jwk` header. */
export async function importDpopKey(jwk: JsonWebKey): Promise<CryptoKeyPair> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') throw new KeyringError('store_failed', 'a stored DPoP key is not an ES256 private key');
  const parameters = IMPORT_PARAMETERS.ES256;
  const { d, key_ops, ...publicJwk } = jwk;
  return {
    privateKey: await crypto.subtle.importKey('jwk', { ...publicJwk, d }, parameters, false, ['sign']),
    publicKey: await crypto.subtle.importKey('jwk', publicJwk, parameters, true, ['verify']),
  };
}
