// Which redirect strategies a sign-in tries, in order: a pure function of where the extension host runs, what the
// server supports and the user's preference, read from a small table in which every row says why.

import type { RedirectPreference, RedirectStrategy } from '../core/vocabulary';

/** `desktop`: the editor and the extension host share a machine. `remote`: SSH, WSL, containers. `web`: code-server, vscode.dev. */
export type HostKind = 'desktop' | 'remote' | 'web';

/** When a row applies: always, never, or only if the server supports something. */
export type StrategyCondition = 'always' | 'never' | 'serverSupportsDeviceCode';

export interface StrategyRow {
  readonly host: HostKind;
  readonly strategy: RedirectStrategy;
  readonly condition: StrategyCondition;
  readonly why: string;
}

export interface RedirectStrategyInput {
  /** `vscode.env.uiKind`. */
  readonly uiKind: 'desktop' | 'web';
  /** `vscode.env.remoteName`: undefined when the extension host runs where the editor does. */
  readonly remoteName: string | undefined;
  readonly preference: RedirectPreference;
  readonly serverSupportsDeviceCode: boolean;
}

/** Per host kind, in order of preference. A strategy a host cannot use has a `never` row saying why. */
export const REDIRECT_STRATEGY_TABLE: readonly StrategyRow[] = [
  // Desktop: the editor, the browser and the extension host share one machine.
  ...hostRows('desktop', [
    ['uriHandler', 'always', 'the editor owns its vscode:// scheme, so the browser hands the callback straight back to this window; a server that refuses custom-scheme redirect URIs fails the attempt, and the next strategy is offered'],
    ['loopback', 'always', 'the browser and the extension host share 127.0.0.1, and RFC 8252 §7.3 has authorization servers accept loopback redirects on any port'],
    ['deviceCode', 'serverSupportsDeviceCode', 'RFC 8628 needs no redirect at all, but only servers that advertise a device authorization endpoint offer it'],
    ['pasteUrl', 'always', 'works wherever a browser does, at the cost of copying the final address by hand'],
  ]),
  // Remote (SSH, WSL, containers): the extension host runs on another machine than the editor and the browser.
  ...hostRows('remote', [
    ['uriHandler', 'always', 'the local editor receives the vscode:// callback and routes it to the remote extension host; a server that refuses custom-scheme redirect URIs fails the attempt, and the next strategy is offered'],
    ['deviceCode', 'serverSupportsDeviceCode', 'needs no redirect, so nothing has to reach the remote machine'],
    ['loopback', 'always', 'the listener runs on the remote machine: the browser reaches its 127.0.0.1 only through a forwarded port, which must match the registered redirect URI exactly'],
    ['pasteUrl', 'always', 'works wherever a browser does, at the cost of copying the final address by hand'],
  ]),
  // Web (code-server, vscode.dev): the editor runs in the browser, the extension host on a server or in its sandbox.
  ...hostRows('web', [
    ['uriHandler', 'always', 'asExternalUri turns the callback into an http(s) URL on the editor\'s own origin, which the editor routes back to this extension; no custom scheme involved'],
    ['loopback', 'never', 'the extension host runs on a server or in the browser\'s sandbox, never where the browser\'s 127.0.0.1 could reach a listener'],
    ['deviceCode', 'serverSupportsDeviceCode', 'needs no redirect, but only servers that advertise a device authorization endpoint offer it'],
    ['pasteUrl', 'always', 'works wherever a browser does, at the cost of copying the final address by hand'],
  ]),
];

function hostRows(host: HostKind, rows: readonly (readonly [RedirectStrategy, StrategyCondition, string])[]): StrategyRow[] {
  return rows.map(([strategy, condition, why]) => ({ host, strategy, condition, why }));
}

export interface RedirectPlan {
  readonly host: HostKind;
  /** The strategies to try, in order; never empty (pasting the URL always works). */
  readonly strategies: readonly RedirectStrategy[];
  /** The rows behind `strategies`, in the same order: the log says why each was chosen. */
  readonly rows: readonly StrategyRow[];
  /** A preference that could not be honoured here, and the row that explains why. */
  readonly ignoredPreference?: StrategyRow;
}

export function hostKindOf(input: Pick<RedirectStrategyInput, 'uiKind' | 'remoteName'>): HostKind {
  if (input.uiKind === 'web') return 'web';
  return input.remoteName ? 'remote' : 'desktop';
}

/** The strategies to try, in order, with the reasons. */
export function planRedirectStrategies(input: RedirectStrategyInput): RedirectPlan {
  const host = hostKindOf(input);
  const hostRows = REDIRECT_STRATEGY_TABLE.filter((row) => row.host === host);
  const possible = hostRows.filter((row) => holds(row.condition, input));
  if (input.preference === 'auto') return { host, strategies: possible.map((row) => row.strategy), rows: possible };
  const preferred = possible.find((row) => row.strategy === input.preference);
  if (!preferred) {
    const ignoredPreference = hostRows.find((row) => row.strategy === input.preference);
    return { host, strategies: possible.map((row) => row.strategy), rows: possible, ignoredPreference };
  }
  const rows = [preferred, ...possible.filter((row) => row !== preferred)];
  return { host, strategies: rows.map((row) => row.strategy), rows };
}

function holds(condition: StrategyCondition, input: RedirectStrategyInput): boolean {
  switch (condition) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'serverSupportsDeviceCode':
      return input.serverSupportsDeviceCode;
  }
}
