// The suite's line to the runner, which holds the fixture servers and the browser: counts of what the servers saw,
// checks only it can make, and whether it plays the person in the tabs the editor opens. No token travels here.
import { readEditorTestConfig } from './editorTestConfig';

export interface RunnerCheckResult {
  readonly title: string;
  readonly failures: readonly string[];
}

export interface ServerTraffic {
  readonly url: string;
  readonly requests: number;
  readonly sessions: number;
  readonly initializeRequests: number;
  /** Age of the oldest access token a request carried, counted from the token endpoint's answer. */
  readonly oldestTokenSentMs: number;
  readonly acceptedRequests: number;
  readonly distinctTokens: number;
  readonly unauthorized: number;
  /** Requests refused with 403 (insufficient_scope). */
  readonly forbidden: number;
}

export interface RunnerState {
  readonly popups: readonly { openedAt: string; finishedAt?: string; error?: string }[];
  readonly registrations: readonly { status: number; clientName?: string; redirectUris: readonly string[] }[];
  /** Tokens the engine tests' authorization server issued, and the authorization codes exchanged (one per browser sign-in). */
  readonly issued: { readonly accessTokens: number; readonly refreshTokens: number; readonly exchangedCodes: number };
  readonly revocations: number;
  readonly tokenRequests: number;
  /** Every request any fixture server was sent. */
  readonly fixtureRequests: number;
  readonly mcp: ServerTraffic;
  readonly loopbackMcp: ServerTraffic;
  readonly stepUpMcp: ServerTraffic;
  /** The DPoP-only server of the machine-grant suite, with why it refused requests (`nonce required`…). */
  readonly machineMcp: ServerTraffic & { readonly dpopRefusals: readonly string[] };
  /** The MCP servers without OAuth: requests that carried their key, and the others. */
  readonly bearer: StaticServerTraffic;
  readonly apiKey: StaticServerTraffic;
}

export interface ViewReading {
  readonly rows: readonly { readonly level: number; readonly label: string; readonly description: string }[];
  readonly badge: string | undefined;
  readonly statusBar: readonly string[];
  readonly hover?: { readonly text: string; readonly markupElements: number };
}

export interface StaticServerTraffic {
  readonly accepted: number;
  readonly refused: number;
}

async function call<T>(route: string, body: Record<string, unknown> = {}): Promise<T> {
  const { runnerUrl } = readEditorTestConfig();
  if (typeof runnerUrl !== 'string') throw new Error('the runner gave no runnerUrl: run the suite through test/editor/runEditorTests.ts');
  const response = await fetch(`${runnerUrl}${route}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const answer = await response.json() as T & { error?: string };
  if (!response.ok) throw new Error(`the runner failed at ${route}: ${answer.error}`);
  return answer;
}

export const runner = {
  state: () => call<RunnerState>('/state'),
  setPopupMode: (mode: 'complete' | 'hold') => call<RunnerState>('/popups', { mode }),
  /** The next tab goes straight to the callback with `code` (for following it to the token endpoint). */
  returnCode: (code: string) => call<RunnerState>('/popups', { mode: 'return-code', code }),
  mark: (name: string) => call<unknown>('/mark', { name }),
  check: (name: 'tool-calls' | 'secret-storage' | 'revoked', since?: string) => call<RunnerCheckResult>(`/check/${name}`, { since }),
  checkExchangedCode: (code: string) => call<RunnerCheckResult>('/check/exchanged-code', { code }),
  /** Answers the quick input titled `title` with `text` (or a static server's key, which only the runner knows), then Enter. */
  /** Opens the MCP Keyring view in the workbench, expands every row and reads it (and `hover`'s row's hover). */
  readView: (hover?: string) => call<ViewReading>('/view', { hover }),
  /** Clicks the status bar item whose text contains `text`, as a person would. */
  clickStatusBarItem: (text: string) => call<unknown>('/click-status-bar', { text }),
  /** The token endpoint's next answer is this error (`invalid_grant` with 400 refuses a refresh token). */
  failNextTokenRequest: (status: number, error: string) => call<unknown>('/fail-next-token-request', { status, error }),
  answerQuickInput: (title: string, answer: { text?: string; secretOf?: 'bearer' | 'apiKey' | 'machineClient' } = {}) => call<unknown>('/quick-input', { title, ...answer }),
};
