// The runner's side of the in-editor suite: it plays the person in every browser tab the editor opens, answers the
// suite's questions about what the fixture servers saw (the suite runs in the extension host and cannot see them),
// and after the run looks for tokens anywhere the editor keeps state.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { completeAuthorizationInPage } from './authorizationPages';
import type { EditorFixtures } from './editorFixtures';
import { clickStatusBarItem, expandAll, openKeyringView, readHover, statusBarTexts, viewBadge, viewRows } from './keyringView';
import type { LogFile } from './runEditorTests';
import { saveScreenshot } from './workbench';

/** One check made by the runner; failures count in the run's summary like failed tests. */
export interface RunnerCheck {
  readonly title: string;
  readonly failures: readonly string[];
}

/**
 * What the person does with a tab the editor opens: sign in and approve, leave it alone (to see a prompt happen), or
 * skip the pages and go straight to the callback with a code of the test's choosing (to follow it to the token endpoint).
 */
export type PopupMode = 'complete' | 'hold' | 'return-code';

interface PopupRecord {
  /** Origin and path of the first page shown (never the query: it carries state and challenges). */
  readonly openedAt: string;
  /** Origin and path where the authorization server sent the tab, once the person finished there. */
  finishedAt?: string;
  error?: string;
}

interface Mark {
  readonly seenTokens: number;
  readonly unauthorized: number;
  readonly popups: number;
  readonly revocations: number;
}

const CLIENT_NAME = 'MCP Keyring';
/** Where VS Code for the web keeps SecretStorage (its LocalStorageSecretStorageProvider). */
const SECRET_STORAGE_KEY = 'secrets.provider';

function originAndPath(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function isWebUrl(url: string): boolean {
  return /^https?:/.test(url);
}

/** Plays the person in tabs the editor opens (vscode.env.openExternal opens them in the same browser profile). */
export class PopupDriver {
  readonly popups: PopupRecord[] = [];
  private mode: PopupMode = 'complete';
  /** Tabs left alone in 'hold' mode; the next other mode deals with them (a sign-in may still wait on one). */
  private readonly held: { page: Page; record: PopupRecord }[] = [];
  /** The code 'return-code' sends back. */
  returnedCode = '';
  /** The last authorization request the browser made (its redirect_uri and state); seen before its redirects. */
  private lastAuthorizationRequest: URL | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly context: BrowserContext,
    /** Where the person signs in: the fixtures' authorization servers (oidc-provider, better-auth). */
    private readonly authorizationServerOrigins: readonly string[],
    private readonly login: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Starts watching; the pages open before this call (the workbench) are not the editor's doing. */
  start(): void {
    this.context.on('request', (request) => {
      const url = new URL(request.url());
      if (this.authorizationServerOrigins.includes(url.origin) && url.searchParams.has('redirect_uri') && url.searchParams.has('state')) this.lastAuthorizationRequest = url;
    });
    this.context.on('page', (page) => this.track(this.handle(page)));
  }

  setMode(mode: PopupMode): void {
    this.mode = mode;
    if (mode === 'hold') return;
    for (const { page, record } of this.held.splice(0)) {
      this.log(`the tab at ${record.openedAt} is no longer left alone (${mode})`);
      this.track(this.finish(page, record));
    }
  }

  private track(work: Promise<void>): void {
    const handled = work.finally(() => this.pending.delete(handled));
    this.pending.add(handled);
  }

  private async handle(page: Page): Promise<void> {
    if (!isWebUrl(page.url())) {
      await page.waitForURL((url) => isWebUrl(url.href), { timeout: 15_000, waitUntil: 'commit' }).catch(() => undefined);
    }
    if (page.isClosed() || !isWebUrl(page.url())) return;
    const record: PopupRecord = { openedAt: originAndPath(page.url()) };
    this.popups.push(record);
    this.log(`the editor opened a tab at ${record.openedAt} (${this.mode})`);
    if (this.mode === 'hold') {
      this.held.push({ page, record });
      return;
    }
    await this.finish(page, record);
  }

  private async finish(page: Page, record: PopupRecord): Promise<void> {
    if (page.isClosed()) return;
    if (this.mode === 'return-code') return this.returnCode(page, record);
    const origin = new URL(page.url()).origin;
    if (!this.authorizationServerOrigins.includes(origin)) {
      // E.g. the editor rewrote the URL (code-server's port proxy for localhost URLs): nobody can sign in there.
      record.error = `the tab shows ${record.openedAt}, not an authorization server at ${this.authorizationServerOrigins.join(' or ')}`;
      this.log(record.error);
      return;
    }
    try {
      await completeAuthorizationInPage(page, { login: this.login, authorizationServerOrigin: origin });
      record.finishedAt = page.isClosed() ? 'closed' : originAndPath(page.url());
      this.log(`the authorization server sent the tab to ${record.finishedAt}`);
    } catch (error) {
      record.error = (error as Error).message;
      this.log(`the authorization pages could not be completed: ${record.error}`);
    }
  }

  /** Goes to the redirect URI as the authorization server would, with `returnedCode` as the code. */
  private async returnCode(page: Page, record: PopupRecord): Promise<void> {
    const request = this.lastAuthorizationRequest;
    if (!request) {
      record.error = 'no authorization request was seen';
      return;
    }
    const callback = new URL(request.searchParams.get('redirect_uri')!);
    callback.searchParams.append('code', this.returnedCode);
    callback.searchParams.append('state', request.searchParams.get('state')!);
    // The fixtures' oidc-provider, whose issuer is its origin: the one server 'return-code' is used with.
    callback.searchParams.append('iss', request.origin);
    await page.goto(callback.href, { waitUntil: 'load' });
    record.finishedAt = originAndPath(page.url());
    this.log(`the tab went to the callback at ${record.finishedAt} with the test's code`);
  }
}

/** Answers the quick input (input box or pick list) whose title starts with `title`: types `text`, then Enter. */
async function answerQuickInput(page: Page, title: string, text: string | undefined): Promise<void> {
  const widget = page.locator('.quick-input-widget').filter({ has: page.locator('.quick-input-title', { hasText: title }) });
  await widget.waitFor({ state: 'visible', timeout: 20_000 });
  if (text !== undefined) await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 20_000 });
}

function markNow(fixtures: EditorFixtures, popups: number): Mark {
  return {
    seenTokens: fixtures.mcpServer.seenTokens.length,
    unauthorized: fixtures.mcpServer.unauthorizedCount,
    popups,
    revocations: fixtures.authorizationServer.requestCount('revocation'),
  };
}

/** Every string value of the workbench's localStorage and IndexedDB databases, in one text to search. */
export async function browserStorageText(page: Page): Promise<{ text: string; localStorageKeys: string[] }> {
  // A string, so that the bundler's helpers (tsx names functions with __name) do not travel into the page.
  return page.evaluate<{ text: string; localStorageKeys: string[] }>(`(${readBrowserStorage})()`);
}

const readBrowserStorage = `async () => {
    const decode = (value) => {
      if (typeof value === 'string') return value;
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        const view = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        return new TextDecoder('latin1').decode(view);
      }
      if (value instanceof Map) return JSON.stringify([...value.entries()].map(([key, entry]) => [decode(key), decode(entry)]));
      if (value && typeof value === 'object') return JSON.stringify(value, (_key, entry) => (ArrayBuffer.isView(entry) ? decode(entry) : entry));
      return String(value);
    };
    const parts = [];
    const localStorageKeys = Object.keys(localStorage);
    for (const key of localStorageKeys) parts.push(\`\${key}=\${localStorage.getItem(key)}\`);
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(info.name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(new Error(String(request.error)));
      });
      for (const storeName of [...db.objectStoreNames]) {
        const store = db.transaction(storeName, 'readonly').objectStore(storeName);
        const [keys, values] = await Promise.all(['getAllKeys', 'getAll'].map((method) => new Promise((resolve, reject) => {
          const request = store[method]();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(new Error(String(request.error)));
        })));
        keys.forEach((key, index) => parts.push(\`\${info.name}/\${storeName}/\${decode(key)}=\${decode(values[index])}\`));
      }
      db.close();
    }
    return { text: parts.join('\\n'), localStorageKeys };
  }`;

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** A token is long and random; a short prefix is enough to name which one leaked without leaking it again. */
function tokenName(token: string): string {
  return `${token.slice(0, 6)}… (${token.length} chars)`;
}

function leaksIn(text: string | Buffer, where: string, tokens: readonly string[]): string[] {
  return tokens.filter((token) => text.includes(token)).map((token) => `${tokenName(token)} appears in ${where}`);
}

export interface LeakScanInputs {
  readonly tokens: readonly string[];
  /** Static servers' keys, typed into the editor once: SecretStorage is the only place they may be. */
  readonly staticKeys?: readonly string[];
  readonly userDataDir: string;
  readonly workbench: Page;
  /** A run of some tests only (--grep), which may activate nothing and sign in nowhere: then neither is a failure. */
  readonly isFiltered: boolean;
}

/**
 * After a sign-in, refresh and sign-out cycle: no token the authorization server issued may appear in the profile
 * (settings, state databases, workspace storage), the logs (the extension's own included, which must exist and say
 * something), or the browser's storage, where SecretStorage keeps its entries encrypted.
 */
export async function scanForLeakedTokens({ tokens: issued, staticKeys = [], userDataDir, workbench, isFiltered }: LeakScanInputs): Promise<RunnerCheck[]> {
  const checks: RunnerCheck[] = [];
  const tokens = [...issued, ...staticKeys];
  const files = await filesBelow(userDataDir);
  const extensionLogs = files.filter((file) => /MCP Keyring\.log$/i.test(path.basename(file)) || /mcp-keyring.*\.log$/i.test(file));
  const logFailures: string[] = [];
  // A filtered run may activate nothing (a --grep matching only tests that never touch MCP Keyring).
  if (extensionLogs.length === 0 && !isFiltered) logFailures.push(`no MCP Keyring log below ${userDataDir} (files: ${files.map((file) => path.relative(userDataDir, file)).join(', ')})`);
  for (const file of extensionLogs) {
    const text = await readFile(file, 'utf8');
    if (!/\[signIn\]|\[activate\]/.test(text)) logFailures.push(`${path.relative(userDataDir, file)} does not record the sign-ins (${text.length} bytes)`);
  }
  checks.push({ title: `the extension's log exists and records the sign-ins (${extensionLogs.map((file) => path.relative(userDataDir, file)).join(', ')})`, failures: logFailures });

  const fileLeaks: string[] = [];
  for (const file of files) fileLeaks.push(...leaksIn(await readFile(file), path.relative(userDataDir, file), tokens));
  checks.push({ title: `no issued token or static key in any of the ${files.length} files of the code-server profile (settings, state.vscdb, logs)`, failures: fileLeaks });

  const storage = await browserStorageText(workbench).catch((error: unknown) => ({ text: '', localStorageKeys: [], error }));
  const browserFailures = 'error' in storage ? [`could not read the browser's storage: ${String(storage.error)}`] : leaksIn(storage.text, "the browser's localStorage or IndexedDB", tokens);
  checks.push({ title: `no issued token or static key in the browser's localStorage or IndexedDB (${storage.text.length} chars)`, failures: browserFailures });
  if (issued.length === 0 && !isFiltered) checks.push({ title: 'the leak scan had tokens to look for', failures: ['the authorization server issued no token'] });
  return checks;
}

type Handler = (body: Record<string, unknown>) => unknown;

/** The editor's output for each MCP server it connected to: `mcpServer.<definition id>.log`. */
const MCP_SERVER_LOG = /(^|[/\\])mcpServer\.[^/\\]*\.log$/;
/** `2026-11-23 01:41:33.618 [info] `: a timestamp's milliseconds could read as a status. */
const LOG_LINE_PREFIX = /^\S+ \S+ \[\w+\] /;

/**
 * The editor starts its own OAuth sign-in when its MCP connection meets a 401 or 403, so the relay must never let
 * one through (a refused or insufficient credential reaches the editor as an ended session, 404). The editor's MCP
 * logs, handed over with its exit call, record every status its connections met.
 */
export function checkEditorMcpLogs(logs: readonly LogFile[], isFiltered: boolean): RunnerCheck {
  const mcpLogs = logs.filter((file) => MCP_SERVER_LOG.test(file.relativePath));
  const failures = mcpLogs.flatMap((file) => file.contents.split('\n')
    .filter((line) => /\b40[13]\b/.test(line.replace(LOG_LINE_PREFIX, '')))
    .map((line) => `${file.relativePath}: ${line.slice(0, 300)}`));
  // Without logs the check would pass for nothing; only a filtered run (--grep) may have connected to no server.
  if (mcpLogs.length === 0 && !isFiltered) failures.push(`the editor handed over no MCP server log (${logs.map((file) => file.relativePath).join(', ') || 'no logs'})`);
  return { title: `the editor's MCP connections met no 401 or 403 (${mcpLogs.length} server logs)`, failures };
}

export class RunnerControl implements AsyncDisposable {
  private readonly marks = new Map<string, Mark>();
  private server: Server | undefined;
  url = '';

  constructor(
    private readonly fixtures: EditorFixtures,
    private readonly popups: () => PopupDriver | undefined,
    private readonly workbench: () => Page | undefined,
  ) {}

  async start(): Promise<string> {
    const routes: Record<string, Handler> = {
      '/state': () => this.state(),
      '/popups': (body) => {
        const driver = this.popups();
        if (driver && typeof body.code === 'string') driver.returnedCode = body.code;
        if (driver && (body.mode === 'complete' || body.mode === 'hold' || body.mode === 'return-code')) driver.setMode(body.mode);
        return this.state();
      },
      '/mark': (body) => {
        const mark = markNow(this.fixtures, this.popups()?.popups.length ?? 0);
        this.marks.set(String(body.name), mark);
        return mark;
      },
      '/check/tool-calls': (body) => this.checkToolCalls(String(body.since)),
      '/check/secret-storage': () => this.checkSecretStorage(),
      '/check/revoked': (body) => this.checkRevoked(String(body.since)),
      '/check/exchanged-code': (body) => this.checkExchangedCode(String(body.code)),
      '/quick-input': (body) => this.answerQuickInput(body),
      '/view': (body) => this.readView(typeof body.hover === 'string' ? body.hover : undefined),
      '/click-status-bar': async (body) => {
        const page = this.workbench();
        if (!page) throw new Error('no workbench page');
        await clickStatusBarItem(page, String(body.text));
        return {};
      },
      '/fail-next-token-request': (body) => {
        this.fixtures.authorizationServer.failNext('token', 1, Number(body.status), String(body.error));
        return {};
      },
    };
    this.server = createServer((request, response) => void this.answer(routes, request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  private async answer(routes: Record<string, Handler>, request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const route = routes[new URL(request.url ?? '/', 'http://localhost').pathname];
      if (!route) {
        response.writeHead(404).end();
        return;
      }
      const result = await route(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (error) {
      response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
    }
  }

  private mark(name: string): Mark {
    const mark = this.marks.get(name);
    if (!mark) throw new Error(`no mark named ${name}`);
    return mark;
  }

  /** Counts only: no token ever travels to the extension host through here. */
  state() {
    const { fixtures } = this;
    const traffic = (server: typeof fixtures.mcpServer) => {
      const seen = fixtures.trafficTo(server);
      return {
        url: server.url,
        requests: seen.requestCount,
        sessions: seen.sessionIds.size,
        initializeRequests: seen.initializeRequests,
        oldestTokenSentMs: seen.oldestTokenSentMs,
        acceptedRequests: server.seenTokens.length,
        distinctTokens: new Set(server.seenTokens).size,
        unauthorized: server.unauthorizedCount,
        forbidden: server.forbiddenCount,
      };
    };
    return {
      popups: this.popups()?.popups ?? [],
      registrations: fixtures.registrations.map(({ status, clientName, redirectUris }) => ({ status, clientName, redirectUris })),
      issued: { accessTokens: fixtures.issuedTokens.accessTokens.length, refreshTokens: fixtures.issuedTokens.refreshTokens.length, exchangedCodes: fixtures.issuedTokens.exchangedCodes.length },
      revocations: fixtures.authorizationServer.requestCount('revocation'),
      tokenRequests: fixtures.authorizationServer.requestCount('token'),
      fixtureRequests: fixtures.requestsServed(),
      mcp: traffic(fixtures.mcpServer),
      loopbackMcp: traffic(fixtures.loopbackMcpServer),
      stepUpMcp: traffic(fixtures.stepUpMcpServer),
      machineMcp: { ...traffic(fixtures.machineMcpServer), dpopRefusals: [...fixtures.machineMcpServer.dpopRefusals] },
      bearer: { accepted: fixtures.bearerServer.accepted, refused: fixtures.bearerServer.refused },
      apiKey: { accepted: fixtures.apiKeyServer.accepted, refused: fixtures.apiKeyServer.refused },
    };
  }

  /**
   * Opens the MCP Keyring view, expands every row and reads what it shows: rows, badge, status bar, and the hover of
   * the row named `hover`.
   */
  private async readView(hover: string | undefined) {
    const page = this.workbench();
    if (!page) throw new Error('no workbench page');
    try {
      await openKeyringView(page);
      await expandAll(page);
      return {
        rows: await viewRows(page),
        badge: await viewBadge(page),
        statusBar: await statusBarTexts(page),
        hover: hover === undefined ? undefined : await readHover(page, hover),
      };
    } catch (error) {
      // What the workbench showed instead, for the person reading the failure.
      await saveScreenshot(page, 'suite', `view-failure-${Date.now()}`).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Plays the person at a quick input. `secretOf` types a static server's key, which only the runner knows: the
   * suite never holds it, so it can check that nothing it reads contains it.
   */
  private async answerQuickInput(body: Record<string, unknown>): Promise<{ answered: string }> {
    const page = this.workbench();
    if (!page) throw new Error('no workbench page');
    const secrets: Record<string, string> = { bearer: this.fixtures.bearerServer.secret, apiKey: this.fixtures.apiKeyServer.secret, machineClient: this.fixtures.machineClientSecret };
    const text = typeof body.secretOf === 'string' ? secrets[body.secretOf] : typeof body.text === 'string' ? body.text : undefined;
    await answerQuickInput(page, String(body.title), text);
    return { answered: String(body.title) };
  }

  /** Compares the code the token endpoint was sent last with the one the test had the browser bring back. */
  private checkExchangedCode(expected: string): RunnerCheck {
    const { exchangedCodes } = this.fixtures.issuedTokens;
    const last = exchangedCodes.at(-1);
    // A different code may be a real one from a sign-in: only its length is told.
    const failures = last === expected ? [] : [`the token endpoint was sent ${last === undefined ? 'no code' : `another code (${last.length} chars)`} instead of ${JSON.stringify(expected)}`];
    return { title: 'the code reached the token endpoint as the browser brought it', failures };
  }

  private checkToolCalls(since: string): RunnerCheck {
    const { fixtures } = this;
    const mark = this.mark(since);
    const failures: string[] = [];
    const tokens = new Set(fixtures.mcpServer.seenTokens.slice(mark.seenTokens));
    if (tokens.size < 4) failures.push(`the MCP server saw ${tokens.size} distinct access tokens during the calls, expected at least 4 (the first and three refreshed ones)`);
    const unauthorized = fixtures.mcpServer.unauthorizedCount - mark.unauthorized;
    if (unauthorized !== 0) failures.push(`the MCP server answered 401 ${unauthorized} times during the calls`);
    const traffic = fixtures.trafficTo(fixtures.mcpServer);
    if (traffic.sessionIds.size !== 1) failures.push(`the MCP server saw ${traffic.sessionIds.size} MCP sessions, expected one`);
    if (traffic.initializeRequests !== 1) failures.push(`the MCP server got ${traffic.initializeRequests} initialize requests, expected one`);
    const foreign = fixtures.registrations.filter((registration) => registration.clientName !== CLIENT_NAME);
    if (foreign.length > 0) failures.push(`registrations by someone other than the keyring: ${foreign.map((registration) => JSON.stringify(registration.clientName)).join(', ')}`);
    const popups = (this.popups()?.popups.length ?? 0) - mark.popups;
    if (popups !== 0) failures.push(`the editor opened ${popups} browser tabs during the calls`);
    return { title: 'tool calls across refreshes', failures };
  }

  private async checkSecretStorage(): Promise<RunnerCheck & { secretKeys: number }> {
    const page = this.workbench();
    if (!page) return { title: 'secret storage', failures: ['no workbench page'], secretKeys: 0 };
    const { text, localStorageKeys } = await browserStorageText(page);
    const { accessTokens, refreshTokens } = this.fixtures.issuedTokens;
    const failures = [...accessTokens, ...refreshTokens]
      .filter((token) => text.includes(token))
      .map((token) => `${tokenName(token)} is readable in the browser's storage`);
    // The web workbench keeps every extension's SecretStorage in one encrypted localStorage entry.
    const secretKeys = localStorageKeys.filter((key) => key === SECRET_STORAGE_KEY);
    if (secretKeys.length === 0) failures.push(`no ${SECRET_STORAGE_KEY} entry among the browser's localStorage keys (${localStorageKeys.join(', ')})`);
    return { title: 'secret storage', failures, secretKeys: secretKeys.length };
  }

  private async checkRevoked(since: string): Promise<RunnerCheck> {
    const { fixtures } = this;
    const mark = this.mark(since);
    const failures: string[] = [];
    const revocations = fixtures.authorizationServer.requestCount('revocation') - mark.revocations;
    if (revocations < 1) failures.push('the authorization server got no revocation request');
    const { refreshTokens, accessTokens } = fixtures.issuedTokens;
    if (refreshTokens.length === 0) failures.push('no refresh token was issued');
    // Opaque access tokens die with their grant; earlier ones have expired or been rotated out anyway.
    for (const [kind, tokens] of [['refresh', refreshTokens], ['access', accessTokens]] as const) {
      const results = await Promise.all(tokens.map((token) => fixtures.authorizationServer.introspect(token)));
      const active = results.filter((result) => result.active).length;
      if (active > 0) failures.push(`${active} of ${tokens.length} ${kind} tokens are still active at the authorization server`);
    }
    const accepted = fixtures.mcpServer.seenTokens.length - mark.seenTokens;
    if (accepted !== 0) failures.push(`the MCP server accepted ${accepted} requests after the sign-out`);
    return { title: 'revoked at the server', failures };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
