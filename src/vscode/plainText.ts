// Server-supplied text (account names, issuers, scopes, error codes) made safe for the editor's surfaces, which must
// show it as the characters it is: never a link, never markup, never a forged extra line.

/**
 * One line of plain text: control characters (line breaks included, which would forge further lines of a hover) and
 * bidirectional overrides (which would reorder what the person reads) become spaces.
 */
export function plainLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
}

/**
 * Text for a notification message, where the editor turns `[label](https://…)` and `[label](command:…)` into a link
 * the person can click: a zero-width space between `]` and `(` leaves the characters as they were read, unlinked.
 */
export function notificationText(text: string): string {
  return plainLine(text).replace(/\]\(/g, ']\u200b(');
}
