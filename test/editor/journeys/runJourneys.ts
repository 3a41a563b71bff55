// Browser journeys: a person's use of MCP Keyring in real VS Code (code-server), driven through Chromium with the
// keyboard and mouse only. Each journey saves screenshots under test/editor/results/journeys/<journey>/ and fails
// when the editor does not show what it should. Exits non-zero when any journey fails.
// Usage: node --import tsx test/editor/journeys/runJourneys.ts [--vsix <file>] [--only <journey>]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureEditorToolchain } from '../install';
import { repoRoot } from '../paths';
import { packageExtension } from './installedExtension';
import type { JourneyContext } from './journeySteps';
import { accountsJourney } from './accountsJourney';
import { deniedConsentJourney } from './deniedConsentJourney';
import { manageJourney } from './manageJourney';
import { preRegisteredClientJourney } from './preRegisteredClientJourney';
import { editorAccountJourney } from './editorAccountJourney';
import { signInJourney } from './signInJourney';
import { viewJourney } from './viewJourney';

const journeys: Record<string, (context: JourneyContext) => Promise<string[]>> = {
  'sign-in': signInJourney,
  'denied-consent': deniedConsentJourney,
  manage: manageJourney,
  'pre-registered-client': preRegisteredClientJourney,
  accounts: accountsJourney,
  view: viewJourney,
  'editor-account': editorAccountJourney,
};
function log(message: string): void {
  console.log(`[journeys] ${message}`);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

// Ctrl-C: exit normally so the launchers' exit handlers end code-server's group and remove temp folders.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const { values } = parseArgs({ options: { vsix: { type: 'string' }, only: { type: 'string', multiple: true } } });
const started = performance.now();
await ensureEditorToolchain();
let stage = performance.now();
const vsix = values.vsix ? path.resolve(values.vsix) : await packageExtension();
log(`${values.vsix ? 'using' : 'packaged'} ${path.relative(repoRoot, vsix)} (${seconds(stage)})`);

const selected = values.only ?? Object.keys(journeys);
const failures: string[] = [];
for (const name of selected) {
  const journey = journeys[name];
  if (!journey) throw new Error(`no journey named ${name}; there are ${Object.keys(journeys).join(', ')}`);
  stage = performance.now();
  try {
    const screenshots = await journey({ vsix });
    log(`✓ ${name} (${seconds(stage)}), ${screenshots.length} screenshots in ${path.relative(repoRoot, path.dirname(screenshots[0] ?? '.'))}`);
  } catch (error) {
    failures.push(name);
    log(`✗ ${name} (${seconds(stage)}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
log(`done in ${seconds(started)}`);
console.log(`journeys: ${selected.length - failures.length} passed, ${failures.length} failed, ${Object.keys(journeys).length - selected.length} skipped`);
process.exitCode = failures.length > 0 ? 1 : 0;
