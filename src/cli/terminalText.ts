// What the command line prints reaches a terminal, and servers choose much of it (tool descriptions and results,
// account labels from unverified claims, issuers, challenges). Control characters there are commands: OSC 52 writes
// the clipboard in some terminals, CSI clears and repaints lines. Human-readable output keeps only newline and tab.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const C0_AND_C1_EXCEPT_NEWLINE_AND_TAB = /[\u0000-\u0008\u000b-\u001f\u0080-\u009f]/g;
/** JSON.stringify escapes C0 characters but leaves C1 characters raw. */
const C1 = /[\u0080-\u009f]/g;

export function withoutControlCharacters(text: string): string {
  return text.replace(C0_AND_C1_EXCEPT_NEWLINE_AND_TAB, '');
}

/** `--json` stays JSON with every value intact: C1 characters are written as `\u` escapes, which mean the same. */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(C1, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
