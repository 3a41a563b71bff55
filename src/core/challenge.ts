// Parses `WWW-Authenticate` (RFC 9110 §11.6.1): several challenges in one header, auth-params with tokens or
// quoted strings (with backslash escapes), token68 credentials. Malformed input never throws: the parser keeps
// what it could read and stops at the first thing it cannot.

export interface Challenge {
  /** Lower-cased scheme, e.g. `bearer`, `dpop`. */
  readonly scheme: string;
  /** Parameter names lower-cased; the first occurrence of a name wins. */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[-._~+/0-9A-Za-z]/;
/** A header longer than this is not from a sane server; parse only its head. */
const MAX_HEADER_LENGTH = 16 * 1024;

export function parseChallenges(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  return new ChallengeReader(header.slice(0, MAX_HEADER_LENGTH)).readAll();
}

/** The first challenge with the given scheme (case-insensitive), if any. */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((challenge) => challenge.scheme === wanted);
}

/**
 * The challenge that speaks for the OAuth protection (error, scope, resource_metadata): `Bearer`, or `DPoP` from a
 * server that accepts only DPoP-bound tokens (RFC 9449 §7.1).
 */
export function findAuthorizationChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return findChallenge(challenges, 'bearer') ?? findChallenge(challenges, 'dpop');
}

class ChallengeReader {
  private position = 0;
  constructor(private readonly text: string) {}

  readAll(): Challenge[] {
    const challenges: Challenge[] = [];
    for (;;) {
      this.skipSeparators();
      const scheme = this.readToken();
      if (!scheme) return challenges;
      challenges.push(this.readChallengeBody(scheme.toLowerCase()));
    }
  }

  private readChallengeBody(scheme: string): Challenge {
    // A Map, so that names such as `constructor` or `__proto__` are ordinary names here.
    const params = new Map<string, string>();
    this.skipSpaces();
    const token68 = this.tryReadToken68();
    if (token68 !== undefined) return { scheme, params: {}, token68 };
    for (;;) {
      const mark = this.position;
      this.skipSpaces();
      const name = this.readToken();
      this.skipSpaces();
      if (!name || this.peek() !== '=') {
        // Not an auth-param: either the next challenge's scheme or garbage; let readAll decide.
        this.position = mark;
        return { scheme, params: Object.fromEntries(params) };
      }
      this.position++;
      this.skipSpaces();
      const value = this.peek() === '"' ? this.readQuotedString() : this.readToken();
      if (value === undefined) return { scheme, params: Object.fromEntries(params) };
      const key = name.toLowerCase();
      if (!params.has(key)) params.set(key, value);
      this.skipSpaces();
      if (this.peek() !== ',') return { scheme, params: Object.fromEntries(params) };
      // A comma may separate this challenge's params or start the next challenge; look past empty list elements.
      const afterComma = this.position;
      this.skipSeparators();
      if (!this.startsAuthParam()) {
        this.position = afterComma;
        return { scheme, params: Object.fromEntries(params) };
      }
    }
  }

  /** token68 is only a token68 when nothing but `=` padding, spaces and then a comma or the end follow it. */
  private tryReadToken68(): string | undefined {
    const start = this.position;
    while (this.position < this.text.length && TOKEN68_CHAR.test(this.text[this.position]!)) this.position++;
    if (this.position === start) return undefined;
    while (this.peek() === '=') this.position++;
    const candidate = this.text.slice(start, this.position);
    this.skipSpaces();
    const next = this.peek();
    if (next === undefined || next === ',') return candidate;
    this.position = start;
    return undefined;
  }

  private startsAuthParam(): boolean {
    const mark = this.position;
    const name = this.readToken();
    this.skipSpaces();
    const isParam = Boolean(name) && this.peek() === '=';
    this.position = mark;
    return isParam;
  }

  private readToken(): string | undefined {
    const start = this.position;
    while (this.position < this.text.length && TOKEN_CHAR.test(this.text[this.position]!)) this.position++;
    return this.position > start ? this.text.slice(start, this.position) : undefined;
  }

  private readQuotedString(): string | undefined {
    let value = '';
    this.position++; // opening quote
    while (this.position < this.text.length) {
      const char = this.text[this.position++]!;
      if (char === '"') return value;
      if (char === '\\') {
        if (this.position >= this.text.length) return undefined;
        value += this.text[this.position++];
      } else {
        value += char;
      }
    }
    return undefined; // unterminated
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  private skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.position++;
  }

  private peek(): string | undefined {
    return this.text[this.position];
  }
}
