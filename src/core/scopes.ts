// Which scopes to ask for, in the order the MCP specification gives, and scope-set arithmetic for step-up.

export const OFFLINE_ACCESS = 'offline_access';

export interface ScopeSources {
  /** Scopes the user configured explicitly; they replace what servers suggest. */
  readonly configured?: readonly string[];
  /** `scope` from the resource server's most recent challenge. */
  readonly challenged?: readonly string[];
  /** `scopes_supported` from the protected resource metadata. */
  readonly resourceSupported?: readonly string[];
  /** `scopes_supported` from the authorization server metadata (only consulted for offline_access). */
  readonly authorizationServerSupported?: readonly string[];
}

/**
 * The scopes of an authorization request: configured, else challenged, else the resource's supported list, else
 * none (never an invented default). `offline_access` is added only where the authorization server lists it.
 */
export function selectScopes(sources: ScopeSources): string[] {
  const base = firstNonEmpty(sources.configured, sources.challenged, sources.resourceSupported);
  if (base.length > 0 && sources.authorizationServerSupported?.includes(OFFLINE_ACCESS)) return unionScopes(base, [OFFLINE_ACCESS]);
  return base;
}

export function parseScope(value: string | undefined | null): string[] {
  if (!value) return [];
  return unionScopes(value.split(/\s+/).filter(Boolean));
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

/** Union keeping first-seen order, without duplicates. */
export function unionScopes(...lists: readonly (readonly string[] | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const list of lists) for (const scope of list ?? []) seen.add(scope);
  return [...seen];
}

export function includesAll(granted: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((scope) => granted.includes(scope));
}

function firstNonEmpty(...lists: (readonly string[] | undefined)[]): string[] {
  for (const list of lists) if (list && list.length > 0) return unionScopes(list);
  return [];
}
