// The comparison client: the official MCP TypeScript SDK's OAuth (`auth()` from @modelcontextprotocol/client 2.x)
// with the simple in-memory provider an application would write, and the scripted person at the browser.
import { auth, type OAuthClientProvider, type OAuthDiscoveryState, type StoredOAuthClientInformation, type StoredOAuthTokens } from '@modelcontextprotocol/client';
import type { TestBrowser } from '../../test/fixtures/testBrowser';

/** Where the SDK client says its redirect goes; the scripted browser reads the code off the URL it is sent to. */
const REDIRECT_URL = 'http://127.0.0.1:9/callback';

/**
 * The fetch the SDK client is given. The SDK puts the resource's scopes into its dynamic registration request, which
 * oidc-provider rejects (`invalid_client_metadata`: resource scopes are not client scopes there); MCP Keyring
 * registers without `scope`. Dropping that one field lets the comparison run with the same request count.
 */
export const sdkFetch: typeof fetch = (input, init) => {
  if (init?.method === 'POST' && typeof init.body === 'string' && init.body.includes('"redirect_uris"')) {
    const { scope: _scope, ...metadata } = JSON.parse(init.body) as Record<string, unknown>;
    return fetch(input, { ...init, body: JSON.stringify(metadata) });
  }
  return fetch(input, init);
};

/** Keeps everything in memory, like most applications embedding the SDK do; counts the sign-in prompts it got. */
export class InMemoryOAuthProvider implements OAuthClientProvider {
  private client: StoredOAuthClientInformation | undefined;
  private savedTokens: StoredOAuthTokens | undefined;
  private verifier = '';
  private discovery: OAuthDiscoveryState | undefined;
  /** The URL of the last sign-in prompt and the verifier that belongs to it. */
  pendingAuthorization: { url: URL; verifier: string } | undefined;
  prompts = 0;

  get redirectUrl(): string {
    return REDIRECT_URL;
  }
  get clientMetadata() {
    return { client_name: 'SDK bench client', redirect_uris: [REDIRECT_URL], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(information: StoredOAuthClientInformation) {
    this.client = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.prompts++;
    this.pendingAuthorization = { url, verifier: this.verifier };
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.savedTokens = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'discovery') this.discovery = undefined;
  }
  /** A re-sign-in with what is cached (discovery, registration) but without tokens. */
  forgetTokens() {
    this.savedTokens = undefined;
  }
}

/**
 * The SDK's interactive sign-in as an application drives it: `auth()` until it asks for a redirect, the person
 * approves in the browser, then `auth()` again with the code from the redirect.
 */
export async function signInWithSdk(provider: InMemoryOAuthProvider, serverUrl: string, browser: TestBrowser, fetchFn: typeof fetch, resourceMetadataUrl?: URL): Promise<void> {
  const first = await auth(provider, { serverUrl, resourceMetadataUrl, fetchFn });
  if (first === 'AUTHORIZED') return;
  await completePrompt(provider, serverUrl, browser, fetchFn);
}

/** Plays the person for the last prompt the SDK raised: approve in the browser, hand the code back to `auth()`. */
export async function completePrompt(provider: InMemoryOAuthProvider, serverUrl: string, browser: TestBrowser, fetchFn: typeof fetch): Promise<void> {
  const pending = provider.pendingAuthorization;
  if (!pending) throw new Error('the SDK raised no sign-in prompt');
  await browser.open(pending.url.href);
  const callback = new URL(browser.lastFinalUrl ?? REDIRECT_URL);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`sign-in ended without a code (${callback.searchParams.get('error') ?? 'no error given'})`);
  // Concurrent auth() runs may have saved other verifiers since this prompt was raised.
  provider.saveCodeVerifier(pending.verifier);
  const result = await auth(provider, { serverUrl, authorizationCode: code, iss: callback.searchParams.get('iss') ?? undefined, fetchFn });
  if (result !== 'AUTHORIZED') throw new Error('the SDK did not accept the authorization code');
}
