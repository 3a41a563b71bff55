// Reads the issue and expiry times of a JWT access token, to chart how old the tokens on the wire were. Only the
// timestamps leave this module; the token itself is never stored or printed.

export interface TokenTimes {
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export function tokenTimes(token: string): TokenTimes | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    return typeof claims.iat === 'number' && typeof claims.exp === 'number' ? { issuedAt: claims.iat, expiresAt: claims.exp } : undefined;
  } catch {
    return undefined;
  }
}

/** The access token of a request's Authorization header, if any: a bearer token or a DPoP-bound one (RFC 9449). */
export function accessTokenOf(init: RequestInit | undefined): string | undefined {
  const header = new Headers(init?.headers).get('authorization');
  return /^(?:Bearer|DPoP)\s+(\S+)$/i.exec(header ?? '')?.[1];
}
