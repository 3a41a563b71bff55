// Node reports file-system and network failures as errors with a `code` string (ENOENT, EEXIST…); this reads it
// without trusting the shape of whatever was thrown.

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
