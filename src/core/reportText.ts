// Plain-text renderings of the engine's reports, shared by the command line and the editor's diagnosis document.
// Server-supplied text stays plain text: these strings are never rendered as markdown or links. URLs in them show
// origin + path only, as in log lines.
import type { CredentialStatus, DiagnoseReport } from './keyring';
import { withoutUrlQueries } from './redact';

export function formatStatus(statuses: readonly CredentialStatus[], now: number): string {
  if (statuses.length === 0) return 'No credentials stored.';
  return withoutUrlQueries(statuses.map((status) => [
    status.serverUrl,
    `  account:   ${status.account}${status.isPreferred ? ' (preferred)' : ''}`,
    `  issuer:    ${status.issuer}`,
    `  client:    ${status.clientId}${status.clientOrigin ? ` (${status.clientOrigin})` : ''}`,
    `  resource:  ${status.resource}`,
    `  scopes:    ${status.scopes.join(' ') || '(none)'}`,
    `  token:     ${status.dpopBound ? 'DPoP-bound (RFC 9449)' : 'Bearer'}`,
    `  expires:   ${formatExpiry(status.expiresAt, now)}`,
    `  refresh:   ${formatRefresh(status)}`,
  ].join('\n')).join('\n\n'));
}

export function formatDiagnosis(report: DiagnoseReport): string {
  const lines = [`Diagnosis of ${report.serverUrl}`];
  if (report.probe) {
    const challenge = report.probe.challenges.map((item) => `${item.scheme} ${Object.entries(item.params).map(([name, value]) => `${name}="${value}"`).join(', ')}`).join('; ');
    lines.push(`  probe: HTTP ${report.probe.status}${challenge ? ` — challenge: ${challenge}` : ' — no challenge'}`);
  }
  for (const [index, step] of report.steps.entries()) lines.push(`  ${index + 1}. ${step.url} → ${step.status}: ${step.outcome}`);
  if (report.discovery) {
    const as = report.discovery.authorizationServer;
    lines.push(`  resource: ${report.discovery.resource}`);
    lines.push(`  authorization server: ${as.issuer} (metadata from ${report.discovery.metadataSource})`);
    lines.push(`  scopes suggested: ${report.discovery.resourceScopes?.join(' ') ?? '(none)'}`);
    lines.push(`  client identity: ${report.clientIdentity ?? 'unknown'}`);
  }
  if (report.error) lines.push(`  result: failed (${report.error.code}): ${report.error.message}`);
  else lines.push('  result: ready to sign in');
  return withoutUrlQueries(lines.join('\n'));
}

function formatExpiry(expiresAt: number | undefined, now: number): string {
  if (expiresAt === undefined) return 'not stated by the server';
  const seconds = Math.round((expiresAt - now) / 1000);
  const when = new Date(expiresAt).toISOString();
  return seconds > 0 ? `${when} (in ${seconds} s)` : `${when} (expired)`;
}

function formatRefresh(status: CredentialStatus): string {
  if (status.needsSignIn) return `needs sign-in${status.lastRefresh?.code ? ` (${status.lastRefresh.code})` : ''}`;
  const base = status.hasRefreshToken ? 'refresh token stored' : 'no refresh token';
  if (!status.lastRefresh) return base;
  return `${base}; last refresh ${status.lastRefresh.outcome} at ${new Date(status.lastRefresh.at).toISOString()}`;
}
