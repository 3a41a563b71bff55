// Debian's Chromium under playwright-core, set up for this machine: headless, no sandbox (root), nothing that
// phones home (the network is closed and Chromium would retry forever), a fresh profile that is thrown away.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { chromium, type BrowserContext } from 'playwright-core';
import { chromiumPath } from './paths';

export interface Chromium extends AsyncDisposable {
  /** One profile: tabs share cookies and localStorage, where code-server keeps SecretStorage. */
  readonly context: BrowserContext;
  close(): Promise<void>;
}

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchChromium(options: { readonly viewport?: { width: number; height: number } } = {}): Promise<Chromium> {
  const profileDir = await mkdtemp('/tmp/mkr-chromium-');
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: options.viewport ?? { width: 1440, height: 900 },
  });
  // Playwright ends the browser when this process exits; the profile folder is ours to remove.
  const removeProfile = (): void => rmSync(profileDir, { recursive: true, force: true });
  process.once('exit', removeProfile);
  let isClosed = false;
  const close = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    process.off('exit', removeProfile);
    await context.close().catch(() => undefined);
    await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
  };
  return { context, close, [Symbol.asyncDispose]: close };
}
