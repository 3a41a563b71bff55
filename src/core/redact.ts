// Keeps secrets out of every line the engine writes: URLs shrink to origin + path, known secret parameters,
// authorization headers and JWT-shaped strings are masked; `redactText` also drops the query and fragment of every
// URL in free text, and a logger wrapper applies it to every line.
import type { Logger } from './ports';

const MASK = '[redacted]';
const SECRET_PARAMS = [
  'code', 'state', 'access_token', 'refresh_token', 'id_token', 'token', 'code_verifier', 'client_secret',
  'assertion', 'client_assertion', 'subject_token', 'actor_token', 'device_code', 'password',
  'api_key', 'apikey', 'key', 'secret', 'sig', 'signature',
];
const SECRET_PARAM_PATTERN = new RegExp(`((?:^|[?&#\\s,;"'{])["']?(?:${SECRET_PARAMS.join('|')})["']?\\s*[=:]\\s*["']?)[^&\\s,;"'}]+`, 'gi');
const AUTH_HEADER_PATTERN = /\b(Bearer|DPoP|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi;
const JWT_PATTERN = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** A URL's query and fragment in free text: up to the next space or quote, less a sentence's closing punctuation. */
const URL_QUERY_PATTERN = /(\bhttps?:\/\/[^\s?#"'<>]+)[?#][^\s"'<>]*?(?=[.,;:!)]*(?:[\s"'<>]|$))/gi;

/** Origin and path of a URL: never its query or fragment, where codes, states and tokens travel. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return MASK;
  }
}

/** Masks anything secret-shaped in free text; extra known secret values (e.g. a client secret) are masked too. */
export function redact(text: string, knownSecrets: readonly string[] = []): string {
  let result = text;
  for (const secret of knownSecrets) {
    if (secret.length >= 4) result = result.split(secret).join(MASK);
  }
  return result
    .replace(JWT_PATTERN, MASK)
    .replace(AUTH_HEADER_PATTERN, `$1 ${MASK}`)
    .replace(SECRET_PARAM_PATTERN, `$1${MASK}`);
}

/**
 * Every URL in free text as origin + path (servers take keys in queries under names nobody can list): the one rule
 * for any text for people that may name a server URL — log lines, CLI messages, status and diagnosis reports.
 */
export function withoutUrlQueries(text: string): string {
  return text.replace(URL_QUERY_PATTERN, '$1');
}

/** Free text that may carry secrets (errors, log lines): `redact`, and URLs as origin + path. */
export function redactText(text: string, knownSecrets: readonly string[] = []): string {
  return withoutUrlQueries(redact(text, knownSecrets));
}

/** Wraps a logger so that every line passes through `redactText`, whatever the caller forgot. */
export function redactingLogger(inner: Logger, knownSecrets: () => readonly string[] = () => []): Logger {
  const clean = (message: string) => redactText(message, knownSecrets());
  return {
    debug: (message) => inner.debug(clean(message)),
    info: (message) => inner.info(clean(message)),
    warn: (message) => inner.warn(clean(message)),
    error: (message) => inner.error(clean(message)),
  };
}
