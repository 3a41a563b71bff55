import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { storeReadme } from '../../../scripts/storeReadme';

describe("the stores' README", () => {
  it('leaves out every repository-only block, markers included, and keeps the rest as it is', () => {
    const readme = 'intro\n<!-- repository-only -->\n![shot](docs/a.png)\n<!-- /repository-only -->\nmiddle\n<!-- repository-only -->x<!-- /repository-only -->\nend\n';
    assert.equal(storeReadme(readme), 'intro\nmiddle\nend\n');
  });

  it('has no relative image or link left from the repository README', async () => {
    const readme = storeReadme(await readFile(new URL('../../../README.md', import.meta.url), 'utf8'));
    const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)].map((match) => match[1]!);
    assert.deepEqual(targets.filter((target) => !/^(https:|#)/.test(target)), []);
  });
});
