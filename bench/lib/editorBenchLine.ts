// How the in-editor bench tests hand their figures to the bench: one `BENCH {json}` line among the suite's output
// lines. Both sides load this module, so it imports neither `vscode` nor the runner.

const PREFIX = 'BENCH ';

/** The line an in-editor bench test prints (after the suite's reporter prefix). */
export function benchLine(figures: unknown): string {
  return `${PREFIX}${JSON.stringify(figures)}`;
}

/** The figures of the suite's BENCH line; undefined when the test printed none (it failed before the end). */
export function editorBenchFigures<T>(suiteOutput: string): T | undefined {
  const line = suiteOutput.split('\n').find((each) => each.startsWith(PREFIX));
  return line === undefined ? undefined : (JSON.parse(line.slice(PREFIX.length)) as T);
}
