// Run by fileLock.test.ts in child processes: takes the lock several times and records when it holds it.
import { appendFileSync } from 'node:fs';
import { withFileLock } from '../../../src/node/fileLock';

const [lockPath, journalPath, rounds, name] = process.argv.slice(2) as [string, string, string, string];

for (let round = 0; round < Number(rounds); round += 1) {
  await withFileLock(lockPath, async () => {
    appendFileSync(journalPath, `start ${name}\n`);
    await new Promise((resolve) => setTimeout(resolve, 2));
    appendFileSync(journalPath, `end ${name}\n`);
  });
}
