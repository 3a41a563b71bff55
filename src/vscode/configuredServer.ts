// A settings entry resolved for use: its canonical URL and the stable route id the relay and the editor know it by.
import { createHash } from 'node:crypto';
import { canonicalServerUrl, parseServerUrl } from '../core/urls';
import { parseServerEntry, type ServerEntry } from './serverEntry';

export interface ConfiguredServer {
  readonly entry: ServerEntry;
  readonly canonicalUrl: string;
  readonly routeId: string;
}

export function toConfiguredServer(value: unknown): ConfiguredServer | undefined {
  const entry = parseServerEntry(value);
  if (!entry) return undefined;
  const canonicalUrl = tryCanonical(entry.url);
  return canonicalUrl ? { entry, canonicalUrl, routeId: routeIdFor(canonicalUrl) } : undefined;
}

/** Short, stable and opaque: the relay path segment and the MCP definition id of a server. */
export function routeIdFor(canonicalUrl: string): string {
  return createHash('sha256').update(canonicalUrl).digest('hex').slice(0, 16);
}

export function tryCanonical(url: string): string | undefined {
  try {
    return canonicalServerUrl(parseServerUrl(url));
  } catch {
    return undefined;
  }
}
