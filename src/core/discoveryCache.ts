// Discovery results kept for a while (default five minutes) so that sign-ins and retries do not repeat the
// metadata round trips; forgotten when a challenge names other metadata, on repeated 401s, or on request.
import type { DestinationPolicy } from './addresses';
import type { Challenge } from './challenge';
import type { Discoverer, Discovery } from './discovery';
import type { KeyringRepository, StoredDiscovery } from './records';

export const DEFAULT_DISCOVERY_TTL_MS = 5 * 60_000;

export class DiscoveryCache {
  constructor(
    private readonly discoverer: Discoverer,
    private readonly repository: KeyringRepository,
    private readonly now: () => number,
    private readonly ttlMs: number = DEFAULT_DISCOVERY_TTL_MS,
  ) {}

  /**
   * A cached result while it is fresh and consistent with the challenge; otherwise a new discovery under `policy`
   * (asked only then), kept with it and only once `remember` is called — after the sign-in it served succeeded, so a
   * failed attempt stores nothing.
   */
  async get(serverUrl: URL, canonicalUrl: string, challenge: Challenge | undefined, policy: () => Promise<DestinationPolicy>, signal?: AbortSignal): Promise<StoredDiscovery | Discovery> {
    const cached = await this.repository.getDiscovery(canonicalUrl);
    if (cached && this.isFresh(cached) && agreesWithChallenge(cached, challenge)) return cached;
    const { serverAddressClass } = await policy();
    return { ...(await this.discoverer.discover(serverUrl, challenge, { serverAddressClass }, signal)), serverAddressClass };
  }

  /**
   * Keeps the discovery with the challenge that led to it. A step-up challenge (`insufficient_scope`) speaks of one
   * call, not of what signing in to the server needs, so the one remembered before stays.
   */
  async remember(discovery: StoredDiscovery | Discovery, challenge: Challenge | undefined): Promise<void> {
    const { trace, challenge: remembered, ...record } = discovery as Discovery;
    const announced = challenge && challenge.params.error !== 'insufficient_scope' ? { scheme: challenge.scheme, params: challenge.params } : remembered;
    await this.repository.putDiscovery(announced ? { ...record, challenge: announced } : record);
  }

  /** The challenge remembered with a fresh discovery: what a probe of the server would very likely answer now. */
  async rememberedChallenge(canonicalUrl: string): Promise<Challenge | undefined> {
    const cached = await this.repository.getDiscovery(canonicalUrl);
    return cached && this.isFresh(cached) ? cached.challenge : undefined;
  }

  /** The last stored result, fresh or not: enough to refresh a token at an issuer already bound. */
  stored(canonicalUrl: string): Promise<StoredDiscovery | undefined> {
    return this.repository.getDiscovery(canonicalUrl);
  }

  invalidate(canonicalUrl: string): Promise<void> {
    return this.repository.deleteDiscovery(canonicalUrl);
  }

  /** Whether something learned at `storedAt` is still to be trusted: a discovery, or the class of a server's address. */
  isFresh(record: { readonly storedAt: number }): boolean {
    const age = this.now() - record.storedAt;
    return age >= 0 && age < this.ttlMs;
  }
}

/** A challenge that names a different metadata document than the one cached makes the cache stale. */
export function agreesWithChallenge(record: StoredDiscovery, challenge: Challenge | undefined): boolean {
  const named = challenge?.params.resource_metadata;
  return named === undefined || sameUrl(named, record.resourceMetadataUrl);
}

function sameUrl(a: string, b: string | undefined): boolean {
  try {
    return b !== undefined && new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}
