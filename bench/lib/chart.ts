// The bench's charts as hand-made SVG. The soak: the age of the token on the wire over time for both clients (the
// oldest per second), the token lifetime as a dashed line, and one tick per refresh that left each client. Growth:
// one small panel per figure over 1, 50 and 500 servers, on a logarithmic server axis.
import type { ExtensionCostResult } from '../sections/extensionCost';
import type { GrowthPoint } from '../sections/growth';
import type { SoakSide } from '../sections/soak';

const WIDTH = 960;
const HEIGHT = 420;
const MARGIN = { left: 110, right: 20, top: 40, bottom: 90 };
const COLORS = { engine: '#1f6feb', sdk: '#d9480f', dpop: '#2f9e44' };
const LABELS = { engine: 'MCP Keyring', sdk: 'SDK client auth()', dpop: 'MCP Keyring, DPoP' };

/** The oldest token age seen in each second of the load, in seconds; gaps where no call was made. */
export function oldestPerSecond(ages: SoakSide['tokenAges']): (number | undefined)[] {
  const buckets: (number | undefined)[] = [];
  for (const [atMs, ageMs] of ages) {
    const second = Math.floor(atMs / 1000);
    buckets[second] = Math.max(buckets[second] ?? 0, ageMs / 1000);
  }
  return buckets;
}

export function soakChart(engine: SoakSide, sdk: SoakSide, tokenLifetimeSeconds: number): string {
  const seconds = Math.ceil(Math.max(engine.durationMs, sdk.durationMs) / 1000);
  const maxAge = Math.max(tokenLifetimeSeconds + 1, ...[engine, sdk].flatMap((side) => oldestPerSecond(side.tokenAges).filter((age): age is number => age !== undefined)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (second: number) => MARGIN.left + (second / seconds) * plotWidth;
  const y = (age: number) => MARGIN.top + plotHeight - (age / maxAge) * plotHeight;
  const fixed = (value: number) => value.toFixed(1);

  const series = (side: SoakSide) => {
    const points = oldestPerSecond(side.tokenAges).flatMap((age, second) => (age === undefined ? [] : [`${fixed(x(second))},${fixed(y(age))}`]));
    return `<polyline fill="none" stroke="${COLORS[side.side]}" stroke-width="1.2" points="${points.join(' ')}"/>`;
  };
  const ticks = (side: SoakSide, row: number) => {
    const top = HEIGHT - MARGIN.bottom + 30 + row * 22;
    const marks = side.refreshesAt.map((atMs) => `M${fixed(x(atMs / 1000))} ${top}v12`).join('');
    return `<text x="${MARGIN.left - 6}" y="${top + 10}" text-anchor="end" font-size="11">${LABELS[side.side]}</text>` +
      `<path d="${marks}" stroke="${COLORS[side.side]}" stroke-width="0.8"/>`;
  };
  const yTicks = Array.from({ length: Math.floor(maxAge) + 1 }, (_, age) =>
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fixed(y(age))}" y2="${fixed(y(age))}" stroke="#eee"/>` +
    `<text x="${MARGIN.left - 6}" y="${fixed(y(age) + 4)}" text-anchor="end" font-size="11">${age} s</text>`).join('');
  const xTicks = Array.from({ length: Math.floor(seconds / 60) + 1 }, (_, minute) =>
    `<text x="${fixed(x(minute * 60))}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${minute} min</text>`).join('');
  const legend = (['engine', 'sdk'] as const).map((side, index) =>
    `<rect x="${MARGIN.left + 10 + index * 200}" y="12" width="14" height="3" fill="${COLORS[side]}"/>` +
    `<text x="${MARGIN.left + 30 + index * 200}" y="17" font-size="12">${LABELS[side]}</text>`).join('');

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">
<title>Soak: age of the access token on each MCP request (oldest per second), and refresh requests</title>
<rect width="100%" height="100%" fill="white"/>
${yTicks}
<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fixed(y(tokenLifetimeSeconds))}" y2="${fixed(y(tokenLifetimeSeconds))}" stroke="#888" stroke-dasharray="6 4"/>
<text x="${WIDTH - MARGIN.right}" y="${fixed(y(tokenLifetimeSeconds) - 4)}" text-anchor="end" font-size="11" fill="#555">token lifetime (${tokenLifetimeSeconds} s): above it the token had expired</text>
${series(engine)}
${series(sdk)}
${xTicks}
<text x="${MARGIN.left - 6}" y="${HEIGHT - MARGIN.bottom + 24}" text-anchor="end" font-size="11" fill="#555">refreshes:</text>
${ticks(engine, 0)}
${ticks(sdk, 1)}
${legend}
</svg>
`;
}

const PANEL = { width: 300, height: 220, left: 60, right: 16, top: 36, bottom: 40 };

interface GrowthSeries {
  readonly title: string;
  readonly unit: string;
  readonly points: readonly (readonly [servers: number, value: number])[];
}

function growthPanel(series: GrowthSeries, index: number): string {
  const x0 = index * PANEL.width;
  const plotWidth = PANEL.width - PANEL.left - PANEL.right;
  const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
  const maxServers = Math.max(...series.points.map(([servers]) => servers), 10);
  const maxValue = Math.max(...series.points.map(([, value]) => value), 1e-9) * 1.15;
  const x = (servers: number) => x0 + PANEL.left + (Math.log10(servers) / Math.log10(maxServers)) * plotWidth;
  const y = (value: number) => PANEL.top + plotHeight - (value / maxValue) * plotHeight;
  const label = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(3));
  const line = series.points.map(([servers, value]) => `${x(servers).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
  return `<g>
<text x="${x0 + PANEL.width / 2}" y="18" text-anchor="middle" font-size="12">${series.title} (${series.unit})</text>
<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left}" y1="${PANEL.top}" y2="${PANEL.top + plotHeight}" stroke="#888"/>
<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.width - PANEL.right}" y1="${PANEL.top + plotHeight}" y2="${PANEL.top + plotHeight}" stroke="#888"/>
<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="${line}"/>
${series.points.map(([servers, value]) => `<circle cx="${x(servers).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3" fill="#1f6feb"/><text x="${x(servers).toFixed(1)}" y="${(y(value) - 7).toFixed(1)}" text-anchor="middle" font-size="10">${label(value)}</text><text x="${x(servers).toFixed(1)}" y="${PANEL.top + plotHeight + 16}" text-anchor="middle" font-size="10">${servers}</text>`).join('\n')}
<text x="${x0 + PANEL.left + plotWidth / 2}" y="${PANEL.height - 6}" text-anchor="middle" font-size="10" fill="#555">servers configured (log scale)</text>
</g>`;
}

export function growthChart(points: readonly GrowthPoint[], extensionCost: ExtensionCostResult | undefined): string {
  const activation = [...(extensionCost?.growth ?? []), ...(extensionCost?.editor ? [extensionCost.editor] : [])]
    .flatMap((figures) => ('activationMs' in figures ? [[figures.configuredServers, figures.activationMs] as const] : []))
    .sort(([a], [b]) => a - b);
  const series: GrowthSeries[] = [
    { title: 'activation in the editor', unit: 'ms', points: activation },
    { title: 'servers view render, p50', unit: 'ms', points: points.map((point) => [point.servers, point.treeRenderP50Ms] as const) },
    { title: 'scheduler wake-ups', unit: 'per hour', points: points.map((point) => [point.servers, point.schedulerWakeUpsPerHour] as const) },
    { title: 'scheduler CPU', unit: 'ms per hour', points: points.map((point) => [point.servers, point.schedulerCpuMsPerHour] as const) },
  ].filter((each) => each.points.length > 0);
  const width = series.length * PANEL.width;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height}" viewBox="0 0 ${width} ${PANEL.height}" font-family="sans-serif">
<title>Growth with the number of servers configured: activation, view rendering, scheduler wake-ups and CPU</title>
<rect width="100%" height="100%" fill="white"/>
${series.map(growthPanel).join('\n')}
</svg>
`;
}
