// Who signed in: a human label and, where the tokens say, the subject, read from the ID token or a JWT access token.
// The ID token came from the token endpoint over TLS, which OpenID Connect Core §3.1.3.7 accepts in place of its
// signature; a JWT access token's signature is not checked. Both only tell a server's accounts apart and label them,
// never decide access: a server that lies about them confuses only its own accounts.
import type { TokenSet } from './oauthExchanges';

/** The account the tokens belong to: its label, and its `sub` when the tokens name one. */
export function accountOf(tokens: TokenSet, issuer: string): { readonly account: string; readonly subject?: string } {
  const subject = subjectOf(tokens.idTokenClaims) ?? subjectOf(decodeJwtPayload(tokens.accessToken));
  return subject === undefined ? { account: accountLabel(tokens, issuer) } : { account: accountLabel(tokens, issuer), subject };
}

function subjectOf(claims: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const sub = claims?.sub;
  return typeof sub === 'string' && sub.length > 0 && sub.length <= 256 ? sub : undefined;
}

const LABEL_CLAIMS = ['preferred_username', 'email', 'name', 'username', 'sub'] as const;

function accountLabel(tokens: TokenSet, issuer: string): string {
  const fromId = tokens.idTokenClaims ? pickLabel(tokens.idTokenClaims) : undefined;
  const fromAccessToken = pickLabel(decodeJwtPayload(tokens.accessToken));
  return fromId ?? fromAccessToken ?? hostOf(issuer);
}

function pickLabel(claims: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!claims) return undefined;
  for (const claim of LABEL_CLAIMS) {
    const value = claims[claim];
    if (typeof value === 'string' && value.length > 0 && value.length <= 256) return value;
  }
  return undefined;
}

/** A JWT's claims, read and never verified: for labels and timing only, never for a decision about access. */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const json = new TextDecoder().decode(base64UrlDecode(parts[1]!));
    const payload: unknown = JSON.parse(json);
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function base64UrlDecode(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

function hostOf(issuer: string): string {
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}
