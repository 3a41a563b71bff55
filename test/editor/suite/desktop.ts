// Which parts of the suite a desktop VS Code run (test/editor/desktop/runDesktopTests.ts) can prove. There the runner
// has no browser: the editor opens sign-in pages in the system browser and quick inputs in its own window, and the
// runner drives neither. What needs the person is skipped with the reason in its title, so the report says why.
import { readEditorTestConfig } from './editorTestConfig';

export const runnerCannotPlayThePerson = 'the runner cannot play the person in the system browser or the desktop window';

export function isDesktopRun(): boolean {
  return readEditorTestConfig().editorHost === 'desktop';
}

function skippedTitle(title: string, whyNotOnDesktop: string): string {
  return `${title} (skipped on desktop: ${whyNotOnDesktop})`;
}

export function suiteOutsideDesktop(title: string, whyNotOnDesktop: string, body: (this: Mocha.Suite) => void): void {
  if (isDesktopRun()) suite.skip(skippedTitle(title, whyNotOnDesktop), body);
  else suite(title, body);
}

export function testOutsideDesktop(title: string, whyNotOnDesktop: string, body: Mocha.Func | Mocha.AsyncFunc): void {
  if (isDesktopRun()) test.skip(skippedTitle(title, whyNotOnDesktop), body);
  else test(title, body);
}
