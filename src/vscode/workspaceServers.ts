// Which configured servers count when user and workspace settings both name servers. Secrets are kept per server
// URL, so a workspace entry (a cloned repository's settings) could otherwise decide where the person's secrets go:
// the user's entry wins, and the fields that route secrets count from a workspace only once the person has
// confirmed exactly what it says, and never in an untrusted workspace.
import { toConfiguredServer, type ConfiguredServer } from './configuredServer';
import type { ServerEntry } from './serverEntry';

/**
 * Fields that decide which secret is sent, how, or where: a client, its authentication, a grant and its sources; and
 * what a token is for (`resource`, `authorizationParameters` such as `audience`), or a workspace could have the
 * person's token for another API sent to the server it names.
 */
export const SECRET_ROUTING_FIELDS = [
  'clientId', 'clientAuthMethod', 'staticCredential', 'apiKeyHeader', 'grant', 'assertionFile', 'idpTokenEndpoint', 'idpClientId',
  'resource', 'authorizationParameters',
] as const satisfies readonly (keyof ServerEntry)[];

export interface ServerSettings {
  /** `mcpKeyring.servers` of the user settings, and of the workspace (its folders' first). */
  readonly user: readonly unknown[];
  readonly workspace: readonly unknown[];
  readonly userClientMetadataUrl?: string;
  readonly workspaceClientMetadataUrl?: string;
  readonly isTrusted: boolean;
  /** What the person confirmed for this workspace before (an `unconfirmedRouting` value), if anything. */
  readonly confirmedRouting: string | undefined;
}

export interface EffectiveServers {
  /** Valid entries, one per canonical URL. */
  readonly servers: ConfiguredServer[];
  /** Valid entries of the user settings alone, whatever the workspace and its trust. */
  readonly user: ConfiguredServer[];
  readonly clientMetadataUrl: string | undefined;
  /** What the workspace says about where secrets go, when it says something the person has not confirmed. */
  readonly unconfirmedRouting: string | undefined;
  /** Entries that were not valid servers. */
  readonly invalid: number;
}

export function effectiveServers(settings: ServerSettings): EffectiveServers {
  const user = settings.user.map(toConfiguredServer);
  const workspace = settings.isTrusted ? settings.workspace.map(toConfiguredServer) : [];
  const valid = (servers: (ConfiguredServer | undefined)[]) => servers.filter((server): server is ConfiguredServer => server !== undefined);
  const validUser = valid(user);
  const userUrls = new Set(validUser.map((server) => server.canonicalUrl));
  const workspaceOnly = valid(workspace).filter((server) => !userUrls.has(server.canonicalUrl));
  const workspaceMetadataUrl = settings.isTrusted ? settings.workspaceClientMetadataUrl : undefined;
  const routing = describeRouting(workspaceOnly, workspaceMetadataUrl);
  const isConfirmed = routing === undefined || routing === settings.confirmedRouting;
  const servers = new Map<string, ConfiguredServer>();
  for (const server of [...validUser, ...workspaceOnly.map((server) => (isConfirmed ? server : withoutSecretRouting(server)))]) {
    if (!servers.has(server.canonicalUrl)) servers.set(server.canonicalUrl, server);
  }
  return {
    servers: [...servers.values()],
    user: validUser,
    clientMetadataUrl: settings.userClientMetadataUrl || (isConfirmed ? workspaceMetadataUrl : undefined) || undefined,
    unconfirmedRouting: isConfirmed ? undefined : routing,
    invalid: [...user, ...workspace].filter((server) => server === undefined).length,
  };
}

/** The secret-routing fields of a workspace's entries, as one comparable text; undefined when there are none. */
function describeRouting(servers: readonly ConfiguredServer[], clientMetadataUrl: string | undefined): string | undefined {
  const routed = servers
    .map((server) => [server.canonicalUrl, Object.fromEntries(SECRET_ROUTING_FIELDS.filter((field) => server.entry[field] !== undefined).map((field) => [field, server.entry[field]]))] as const)
    .filter(([, fields]) => Object.keys(fields).length > 0);
  if (routed.length === 0 && !clientMetadataUrl) return undefined;
  return JSON.stringify({ servers: routed, clientMetadataUrl });
}

function withoutSecretRouting(server: ConfiguredServer): ConfiguredServer {
  const entry: Record<string, unknown> = { ...server.entry };
  for (const field of SECRET_ROUTING_FIELDS) delete entry[field];
  return { ...server, entry: entry as unknown as ServerEntry };
}

/** One line per server (and the client metadata document) of a routing text, for the person to review. */
export function routingSummary(routing: string): string[] {
  const { servers, clientMetadataUrl } = JSON.parse(routing) as { servers: [string, Record<string, unknown>][]; clientMetadataUrl?: string };
  const lines = servers.map(([url, fields]) => `${url}: ${Object.entries(fields).map(([field, value]) => `${field} = ${typeof value === 'string' ? value : JSON.stringify(value)}`).join(', ')}`);
  return clientMetadataUrl ? [...lines, `clientMetadataUrl = ${clientMetadataUrl}`] : lines;
}
