// Property-based fuzzing of the engine's input handling: the challenge parser, metadata and token responses,
// callback URLs, and the redaction helper. Each target states what must hold for every input — no crash, no hang,
// failures only as KeyringError, no secret in any message — and runs for a given number of generated inputs:
// a few hundred in the unit tests (test/unit/core/fuzz.test.ts), 100 000 in the bench.
import fc from 'fast-check';
import type * as oauth from 'oauth4webapi';
import { parseChallenges } from '../../src/core/challenge';
import { Discoverer } from '../../src/core/discovery';
import { isKeyringError } from '../../src/core/errors';
import { refreshTokens, validateCallback, type PendingAuthorization } from '../../src/core/oauthExchanges';
import type { FetchFn } from '../../src/core/ports';
import type { ClientRecord } from '../../src/core/records';
import { redact } from '../../src/core/redact';
import { httpClientOver, routerFetch } from '../unit/core/fakes';

export interface FuzzOutcome {
  readonly target: string;
  /** Inputs actually tried: the run stops at the first input the property fails for. */
  readonly inputs: number;
  /** The property's failure, summarised without the generated values; undefined when it held for every input. */
  readonly failure?: string;
  /** The most CPU time a single input took, in milliseconds. */
  readonly slowestMs: number;
  readonly elapsedMs: number;
}

export interface FuzzTarget {
  readonly name: string;
  run(numRuns: number, seed?: number): Promise<FuzzOutcome>;
}

/**
 * An input using more CPU than this counts as a hang. CPU time, not wall time: on a shared machine a process may wait
 * seconds for a core, which says nothing about the code. An input that never settles is caught by fast-check's timeout.
 */
export const HANG_CPU_MS = 1_000;
const SETTLE_TIMEOUT_MS = 30_000;

// Secret-shaped values planted in the inputs; no message may ever contain one.
const SECRET_REFRESH_TOKEN = 'rt-SECRET-7f3a9c1e5b';
const SECRET_ACCESS_TOKEN = 'at-SECRET-2d8e4f6a0c';
const SECRET_CLIENT = 'cs-SECRET-9b1d3f5e7a';
const SECRET_CODE = 'code-SECRET-4c6e8a0b2d';
const PLANTED = [SECRET_REFRESH_TOKEN, SECRET_ACCESS_TOKEN, SECRET_CLIENT, SECRET_CODE];

const SERVER = new URL('https://mcp.example/mcp');
const ISSUER = 'https://as.example';
const PRM_URL = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
const AS_URL = `${ISSUER}/.well-known/oauth-authorization-server`;
const POLICY = { serverAddressClass: 'loopback' as const };
/**
 * The fake servers answer at once, so a short request timeout changes nothing but how many timeout timers (and what
 * they hold) are alive at a time: with the default 10 s, 100 000 inputs keep enough garbage reachable that a major GC
 * once took over a second of CPU inside one input and was reported as a hang.
 */
const http = (fetch: FetchFn) => httpClientOver(fetch, { timeoutMs: 1_000 });
const AS: oauth.AuthorizationServer = { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, authorization_response_iss_parameter_supported: true };
const CLIENT: ClientRecord = { issuer: ISSUER, clientId: 'bench-client', clientSecret: SECRET_CLIENT, authMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1/callback'], origin: 'pre-registered', registeredAt: 0 };

/** Rejection is fine only as the engine's own error, and only without a planted secret in what it says. */
function assertEngineFailure(error: unknown): void {
  if (!isKeyringError(error)) throw new Error(`not a KeyringError: ${error instanceof Error ? error.name : typeof error}`);
  const leaked = PLANTED.find((secret) => error.message.includes(secret));
  if (leaked) throw new Error(`a planted secret appears in a ${error.code} message`);
}

function summarise(failure: unknown): string {
  // fast-check's own message repeats the counterexample; the property's complaint is its cause.
  const cause = failure instanceof Error && failure.cause instanceof Error ? failure.cause.message : undefined;
  const reason = cause ?? (failure instanceof Error ? failure.message.split('\n')[0] : undefined) ?? 'failed';
  return PLANTED.reduce((text, secret) => text.split(secret).join('[planted secret]'), reason).slice(0, 300);
}

async function cpuTimeOf(work: () => void | Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const { user, system } = process.cpuUsage(before);
  return (user + system) / 1000;
}

/** Runs `check` over `numRuns` generated inputs, timing each. */
function target<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (input: T) => void | Promise<void>): FuzzTarget {
  return {
    name,
    async run(numRuns, seed) {
      let slowestMs = 0;
      let tried = 0;
      const started = performance.now();
      const property = fc.asyncProperty(arbitrary, async (input) => {
        tried++;
        // fast-check chains the inputs as promise jobs; without a turn of the event loop no timer fires and no
        // finalizer runs, so every request's timeout would stay alive until the end of the run.
        await new Promise(setImmediate);
        let cpuMs = await cpuTimeOf(() => check(input));
        // The process's CPU time includes the garbage collector's threads, and a major collection of what earlier
        // inputs left behind can land inside any input (seen once in 50 000–80 000 metadata inputs). A slow input
        // is run again: a real hang repeats, a collection does not.
        if (cpuMs > HANG_CPU_MS) cpuMs = Math.min(cpuMs, await cpuTimeOf(() => check(input)));
        slowestMs = Math.max(slowestMs, cpuMs);
        if (cpuMs > HANG_CPU_MS) throw new Error(`one input used ${Math.round(cpuMs)} ms of CPU, twice`);
      });
      let failure: string | undefined;
      try {
        await fc.assert(property, { numRuns, seed, endOnFailure: true, timeout: SETTLE_TIMEOUT_MS });
      } catch (error) {
        failure = summarise(error);
      }
      return { target: name, inputs: tried, failure, slowestMs, elapsedMs: performance.now() - started };
    },
  };
}

// ---- WWW-Authenticate ----

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const quoted = fc.string({ maxLength: 20 }).map((text) => `"${text.replace(/["\\]/g, (character) => `\\${character}`)}"`);
const authParam = fc.tuple(token, fc.constantFrom('=', ' = ', '='), fc.oneof(token, quoted, fc.string({ maxLength: 8 }))).map(([name, equals, value]) => `${name}${equals}${value}`);
const challenge = fc.tuple(fc.oneof(token, fc.constantFrom('Bearer', 'DPoP', 'Basic')), fc.array(authParam, { maxLength: 6 }), fc.option(fc.stringMatching(/^[-._~+/0-9A-Za-z]{1,20}=*$/)))
  .map(([scheme, params, token68]) => [scheme, token68 ?? '', params.join(', ')].filter(Boolean).join(' '));
const challengeHeader = fc.oneof(
  fc.array(challenge, { minLength: 1, maxLength: 4 }).map((challenges) => challenges.join(', ')),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

const challengeParser = target('challenge parser (WWW-Authenticate)', challengeHeader, (header) => {
  const challenges = parseChallenges(header);
  if (!Array.isArray(challenges)) throw new Error('the parser returned no list');
  for (const each of challenges) {
    if (each.scheme !== each.scheme.toLowerCase() || each.scheme === '') throw new Error('a scheme is empty or not lower-cased');
  }
});

// ---- metadata ----

const anyJsonText = fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 80 }), fc.constant(''));
const urlish = fc.oneof(fc.constantFrom(ISSUER, `${ISSUER}/`, 'https://mcp.example/mcp', 'http://10.0.0.1/x', 'javascript:alert(1)', 'https://as.example/tenant'), fc.webUrl(), fc.string({ maxLength: 30 }));
const resourceMetadata = fc.record({
  resource: fc.oneof(fc.constant('https://mcp.example/mcp'), urlish, fc.integer()),
  authorization_servers: fc.oneof(fc.constant([ISSUER]), fc.array(urlish, { maxLength: 3 }), fc.string()),
  scopes_supported: fc.option(fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fc.string())),
  client_secret: fc.constant(SECRET_CLIENT),
}, { requiredKeys: ['client_secret'] }).map((document) => JSON.stringify(document));
const serverMetadata = fc.record({
  issuer: fc.oneof(fc.constant(ISSUER), urlish, fc.integer()),
  authorization_endpoint: fc.oneof(fc.constant(`${ISSUER}/authorize`), urlish),
  token_endpoint: fc.oneof(fc.constant(`${ISSUER}/token`), urlish, fc.boolean()),
  registration_endpoint: fc.option(urlish),
  code_challenge_methods_supported: fc.oneof(fc.constant(['S256']), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), fc.string()),
  scopes_supported: fc.option(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 })),
  access_token: fc.constant(SECRET_ACCESS_TOKEN),
}, { requiredKeys: ['access_token'] }).map((document) => JSON.stringify(document));
const answer = (body: fc.Arbitrary<string>) => fc.record({
  status: fc.constantFrom(200, 200, 200, 201, 301, 400, 404, 500, 503),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html', ''),
  body: fc.oneof({ weight: 3, arbitrary: body }, { weight: 1, arbitrary: anyJsonText }),
});
type Answer = { status: number; contentType: string; body: string };

function respond({ status, contentType, body }: Answer): Response {
  const hasBody = ![101, 204, 205, 304].includes(status);
  return new Response(hasBody ? body : null, { status, headers: contentType ? { 'content-type': contentType } : {} });
}

const metadataHandling = target('metadata handling (RFC 9728 + RFC 8414 documents)', fc.tuple(answer(resourceMetadata), answer(serverMetadata)), async ([prm, asm]) => {
  const server = routerFetch({ [PRM_URL]: () => respond(prm), [AS_URL]: () => respond(asm) });
  const discoverer = new Discoverer(http(server.fetch), () => 0);
  try {
    const discovery = await discoverer.discover(SERVER, undefined, POLICY);
    if (JSON.stringify(discovery.trace).includes(SECRET_CLIENT)) throw new Error('a planted secret appears in the discovery trace');
  } catch (error) {
    assertEngineFailure(error);
  }
});

// ---- token responses ----

const tokenBody = fc.record({
  access_token: fc.oneof(fc.constant(SECRET_ACCESS_TOKEN), fc.string({ maxLength: 10 }), fc.integer()),
  token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'DPoP', 'mac', ''), fc.integer()),
  expires_in: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(null)),
  refresh_token: fc.oneof(fc.constant(SECRET_REFRESH_TOKEN), fc.integer()),
  scope: fc.oneof(fc.string({ maxLength: 20 }), fc.array(fc.string())),
  id_token: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')),
  error: fc.oneof(fc.constantFrom('invalid_grant', 'invalid_client', 'temporarily_unavailable', 'server_error', 'slow_down'), fc.string({ maxLength: 30 })),
  error_description: fc.constant(`echo ${SECRET_REFRESH_TOKEN}`),
}, { requiredKeys: [] }).map((document) => JSON.stringify(document));

const tokenResponseHandling = target('token response handling (refresh)', answer(tokenBody), async (tokenAnswer) => {
  const server = routerFetch({ [AS.token_endpoint!]: () => respond(tokenAnswer) });
  try {
    await refreshTokens(http(server.fetch), POLICY, AS, CLIENT, SECRET_REFRESH_TOKEN, SERVER.href);
  } catch (error) {
    assertEngineFailure(error);
  }
});

// ---- callback URLs ----

const STATE = 'expected-state-0123456789';
const PENDING: PendingAuthorization = { url: new URL(`${ISSUER}/authorize`), state: STATE, codeVerifier: 'v'.repeat(43), redirectUri: 'http://127.0.0.1/callback', scopes: [], resource: SERVER.href };
const callbackParam = fc.oneof(
  fc.constant(['code', SECRET_CODE]),
  fc.constant(['state', STATE]),
  fc.constant(['iss', ISSUER]),
  fc.tuple(fc.constantFrom('code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'response', 'session_state'), fc.string({ maxLength: 30 })),
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
);
const callbackUrl = fc.oneof(
  fc.array(callbackParam, { maxLength: 7 }).map((params) => `http://127.0.0.1:5555/callback?${new URLSearchParams(params as [string, string][]).toString()}`),
  fc.tuple(fc.string({ maxLength: 60 }), fc.constantFrom('?', '#', '?code=' + SECRET_CODE + '&')).map(([raw, lead]) => `http://127.0.0.1:5555/callback${lead}${raw}`),
);

const callbackHandling = target('callback URL handling (state, iss, error)', callbackUrl, (url) => {
  try {
    validateCallback(AS, CLIENT, new URL(url), PENDING);
  } catch (error) {
    assertEngineFailure(error);
  }
});

// ---- redaction ----

// Token-shaped values (RFC 6750 b64token characters); JWT segments are base64url only.
const secretValue = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{12,40}$/);
const base64urlValue = fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/);
const shaped = (value: fc.Arbitrary<string>, shape: (secret: string) => string) => value.map((secret) => ({ secret, shaped: shape(secret) }));
const secretShape = fc.oneof(
  shaped(secretValue, (s) => `access_token=${s}`),
  shaped(secretValue, (s) => `https://as.example/cb?code=${s}&state=x`),
  shaped(secretValue, (s) => `https://as.example/cb#access_token=${s}`),
  shaped(secretValue, (s) => `{"refresh_token":"${s}","token_type":"Bearer"}`),
  shaped(secretValue, (s) => `'client_secret': '${s}'`),
  shaped(secretValue, (s) => `Authorization: Bearer ${s}`),
  shaped(secretValue, (s) => `DPoP ${s}`),
  shaped(secretValue, (s) => `code_verifier = ${s}`),
  shaped(base64urlValue, (s) => `eyJhbGciOi.${s}.sig`),
);
const redactionInput = fc.tuple(fc.string({ maxLength: 40 }), secretShape, fc.string({ maxLength: 40 }))
  .map(([before, { secret, shaped }, after]) => ({ secret, text: `${before} ${shaped} ${after}` }));

const redaction = target('redaction helper', redactionInput, ({ secret, text }) => {
  const redacted = redact(text);
  if (redacted.includes(secret)) throw new Error('a secret survived redaction');
});

export const FUZZ_TARGETS: readonly FuzzTarget[] = [challengeParser, metadataHandling, tokenResponseHandling, callbackHandling, redaction];
