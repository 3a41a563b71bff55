// A human label for whoever signed in, read from the ID token or a JWT access token. The token's signature is
// not checked here: the label is for display and for telling accounts apart, never for an access decision.
import type { TokenSet } from './oauthExchanges';

const LABEL_CLAIMS = ['preferred_username', 'email', 'name', 'username', 'sub'] as const;

export function accountLabel(tokens: TokenSet, issuer: string): string {
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

function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
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
