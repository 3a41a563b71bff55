// Plays the person at the authorization server in a real Chromium page: oidc-provider's development login and
// consent pages, or the sign-in and consent pages of an app running better-auth, as a browser shows them, until the
// server sends the page on to the client's redirect URI — or, in a device flow (RFC 8628), from the user code
// confirmation through login and consent to the page saying it is done.
import type { Page } from 'playwright-core';

export interface AuthorizationPageOptions {
  /** Typed into the login field; default 'alice'. */
  readonly login?: string;
  /** Typed into an email field (better-auth signs in by email); default `<login>@example.com`. */
  readonly email?: string;
  /** Typed into the password field when the page has one; default 'password'. */
  readonly password?: string;
  /** 'deny' follows the page's cancel link instead of approving; default 'approve'. */
  readonly consent?: 'approve' | 'deny';
  /**
   * The authorization server's origin. Without it, the first web page shown counts as the server's, and a first page
   * with no login or consent form counts as already arrived at the client (the server needed nobody, e.g. the
   * person was still signed in and had already consented).
   */
  readonly authorizationServerOrigin?: string;
  /** How long each page may take to appear or to send the browser on; default 30 s. */
  readonly stepTimeoutMs?: number;
}

const MAX_PAGES = 10;

function isWebUrl(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

/**
 * better-auth hands its app's pages a signed `oauth_query` that their forms carry back: with a password field, the
 * sign-in page; without, the consent page.
 */
const BETTER_AUTH_FORM = 'form:has(input[name="oauth_query"])';
/** What identifies each page the runner knows how to answer; the classification below tells them apart. */
const KNOWN_PAGE_MARKERS = `form input[name="confirm"], form input[name="user_code"], #device-sign-in-done, form input[name="prompt"], ${BETTER_AUTH_FORM}`;
/** How long a loaded page may take to show one of them before it counts as a page with no known way on. */
const RECOGNITION_WAIT_MS = 5_000;

/** What the page in front of the person asks for: oidc-provider names it in the form's hidden `prompt` field, better-auth's pages by their form. */
async function nextPrompt(page: Page, serverOrigin: string, timeoutMs: number): Promise<'left' | 'login' | 'consent' | 'postingCode' | 'confirmCode' | 'deviceDone' | 'other'> {
  const left = page.waitForURL((url) => url.origin !== serverOrigin, { timeout: timeoutMs, waitUntil: 'commit' }).then(() => 'left' as const);
  const form = page.locator('form input[name="prompt"]').first();
  // Redirects happen at the HTTP level, so a loaded document on the server's origin is a page meant for the person.
  const prompt = page.waitForLoadState('domcontentloaded', { timeout: timeoutMs }).then(async () => {
    if (new URL(page.url()).origin !== serverOrigin) return 'left' as const;
    // A form that posts itself (the device code from the link) can leave a new document committed but not yet parsed,
    // where every count below is 0: give a known page's form the moment it needs to appear.
    await page.locator(KNOWN_PAGE_MARKERS).first().waitFor({ state: 'attached', timeout: RECOGNITION_WAIT_MS }).catch(() => undefined);
    // The device flow's pages: the one posting the code from the link by itself, the confirmation of the code the
    // device shows, and the end, where no redirect follows.
    if ((await page.locator('form input[name="confirm"]').count()) > 0) return 'confirmCode' as const;
    if ((await page.locator('form input[name="user_code"]').count()) > 0) return 'postingCode' as const;
    if ((await page.locator('#device-sign-in-done').count()) > 0) return 'deviceDone' as const;
    const betterAuthForm = page.locator(BETTER_AUTH_FORM).first();
    if ((await betterAuthForm.count()) > 0) return (await betterAuthForm.locator('input[type="password"]').count()) > 0 ? 'login' as const : 'consent' as const;
    if ((await form.count()) === 0) return 'other' as const;
    const value = await form.getAttribute('value', { timeout: timeoutMs });
    return value === 'login' || value === 'consent' ? value : ('other' as const);
  });
  const closed = new Promise<'left'>((resolve) => page.once('close', () => resolve('left')));
  // Whichever loses the race settles later against a page that moved on; its outcome no longer matters.
  left.catch(() => undefined);
  prompt.catch(() => undefined);
  return Promise.race([left, prompt, closed]);
}

/** Runs `act` and waits until the page has started loading whatever it led to, or the page closed. */
async function andNavigation(page: Page, timeoutMs: number, act: () => Promise<void>): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: timeoutMs });
  const closed = new Promise<void>((resolve) => page.once('close', () => resolve()));
  navigated.catch(() => undefined);
  await act();
  await Promise.race([navigated.then(() => undefined), closed]);
}

async function describePage(page: Page): Promise<string> {
  const text = await page.locator('body').innerText({ timeout: 1_000 }).catch(() => '');
  return `${new URL(page.url()).pathname}: ${text.replace(/\s+/g, ' ').trim().slice(0, 300)}`;
}

/**
 * Signs in and approves (or denies) on the authorization server's pages in `page`, which shows or is
 * about to show the authorization URL. Resolves once the page has left the authorization server's origin (for the
 * client's redirect URI) or was closed; throws with what the page said when it offers no way on.
 */
export async function completeAuthorizationInPage(page: Page, options: AuthorizationPageOptions = {}): Promise<void> {
  const timeoutMs = options.stepTimeoutMs ?? 30_000;
  // A page the editor just opened starts at about:blank and navigates to the authorization URL afterwards.
  if (!isWebUrl(new URL(page.url()))) {
    await page.waitForURL((url) => isWebUrl(url), { timeout: timeoutMs, waitUntil: 'commit' });
  }
  const serverOrigin = options.authorizationServerOrigin ?? new URL(page.url()).origin;
  for (let step = 0; step < MAX_PAGES; step += 1) {
    if (page.isClosed() || new URL(page.url()).origin !== serverOrigin) return;
    const prompt = await nextPrompt(page, serverOrigin, timeoutMs);
    if (prompt === 'left' || prompt === 'deviceDone') return;
    if (prompt === 'postingCode') {
      await page.waitForURL((url) => !url.searchParams.has('user_code'), { timeout: timeoutMs, waitUntil: 'domcontentloaded' });
    } else if (prompt === 'confirmCode') {
      // The person confirms that the page shows the code the editor shows.
      await andNavigation(page, timeoutMs, () => page.locator('[type="submit"]').first().click());
    } else if (prompt === 'login') {
      await andNavigation(page, timeoutMs, async () => {
        const login = options.login ?? 'alice';
        const field = page.locator('form input[name="login"], form input[type="email"]').first();
        await field.fill((await field.getAttribute('type')) === 'email' ? options.email ?? `${login}@example.com` : login);
        const password = page.locator('form input[type="password"]');
        if ((await password.count()) > 0) await password.first().fill(options.password ?? 'password');
        await page.locator('form [type="submit"]').first().click();
      });
    } else if (prompt === 'consent' && options.consent === 'deny') {
      await andNavigation(page, timeoutMs, () => page.locator('a', { hasText: /cancel|deny|abort/i }).first().click());
    } else if (prompt === 'consent') {
      await andNavigation(page, timeoutMs, () => page.locator('form [type="submit"]').first().click());
    } else if (step === 0 && !options.authorizationServerOrigin) {
      return;
    } else {
      throw new Error(`the authorization server shows a page with no known way on (${await describePage(page)})`);
    }
  }
  throw new Error(`still at the authorization server after ${MAX_PAGES} pages (${await describePage(page)})`);
}
