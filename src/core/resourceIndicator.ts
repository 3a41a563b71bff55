// Whether a server names itself to the authorization server (RFC 8707 `resource`) when its `resource` setting is
// `auto`, and with which value. The rule lives here alone. See docs/design.md, "Resource indicators".
import type { StoredDiscovery } from './records';

/**
 * The server's own `resource`: its protected resource metadata's `resource` (RFC 9728, the MCP revisions from
 * 2025-06-18 on, where clients must send it); none for a server that published no resource metadata (the 2025-03-26
 * revision, which knows no `resource`): such servers are their own authorization server, and some of them turn a
 * `resource` they never asked for into an audience their own endpoint then refuses.
 */
export function serverResourceIndicator(discovery: Pick<StoredDiscovery, 'resource' | 'resourceMetadataUrl'>): string | undefined {
  return discovery.resourceMetadataUrl === undefined ? undefined : discovery.resource;
}
