// Section 4: the soak. Both sides (MCP Keyring and the SDK's OAuth) run at the same time, each in its own process
// against its own identical servers, while the rest of the bench goes on.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { percentile } from '../lib/stats';

export const SOAK_DURATION_MS = 10 * 60 * 1000;
export const SOAK_TOKEN_LIFETIME_SECONDS = 5;

export interface MemorySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Where RSS that is not live heap sits: V8's reserved heap, and memory outside it (Buffers, native). */
  readonly heapTotalBytes?: number;
  readonly externalBytes?: number;
  readonly arrayBuffersBytes?: number;
}

/** What one soak worker reports (bench/soakWorker.ts). */
/** `dpop`: MCP Keyring again, against servers that want DPoP-bound tokens and nonces on every proof. */
export type SoakSideName = 'engine' | 'sdk' | 'dpop';

export interface SoakSide {
  readonly side: SoakSideName;
  readonly durationMs: number;
  readonly calls: number;
  readonly okCalls: number;
  readonly failedCalls: number;
  readonly failureKinds: Record<string, number>;
  readonly callsThatSaw401: number;
  /** The MCP server's reason for each of those 401s, counted. */
  readonly unauthorizedReasons?: Readonly<Record<string, number>>;
  readonly refreshes: number;
  readonly signInPrompts: number;
  readonly latenciesMs: readonly number[];
  /** [ms since the load began, age of the token sent in ms]. */
  readonly tokenAges: readonly (readonly [number, number])[];
  readonly refreshesAt: readonly number[];
  readonly memoryAtStart: MemorySample;
  readonly memoryAtEnd: MemorySample;
  /** For `dpop`: requests the MCP server refused for their proof (nonce demands among them), and what one proof costs. */
  readonly dpop?: { readonly refusals: Record<string, number>; readonly proofCost: ProofCost };
}

/** The DPoP work one MCP request adds (a fresh ES256 proof with `ath`, the request built by oauth4webapi), timed alone. */
export interface ProofCost {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface SoakResult {
  readonly engine: SoakSide;
  readonly sdk: SoakSide;
  readonly dpop: SoakSide;
}

/** How a soak's call latencies read in the report. */
export function latencySummary(side: Pick<SoakSide, 'latenciesMs'>) {
  return { p50Ms: percentile(side.latenciesMs, 0.5), p99Ms: percentile(side.latenciesMs, 0.99), maxMs: percentile(side.latenciesMs, 1) };
}

function runWorker(side: SoakSideName, durationMs: number, outputPath: string): Promise<SoakSide> {
  return new Promise((resolve, reject) => {
    const worker = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(import.meta.dirname, '../soakWorker.ts'), side, String(durationMs), outputPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    worker.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    worker.on('error', reject);
    worker.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the ${side} soak worker exited with ${code}: ${stderr}`));
      readFile(outputPath, 'utf8').then((text) => resolve(JSON.parse(text) as SoakSide), reject);
    });
  });
}

/** All three workers are started before this returns its promise; `scratchDirectory` must exist. */
export async function startSoak(scratchDirectory: string, durationMs = SOAK_DURATION_MS): Promise<SoakResult> {
  const [engine, sdk, dpop] = await Promise.all((['engine', 'sdk', 'dpop'] as const).map((side) => runWorker(side, durationMs, path.join(scratchDirectory, `soak-${side}.json`))));
  return { engine: engine!, sdk: sdk!, dpop: dpop! };
}
