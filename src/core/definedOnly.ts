// Options laid over other options: a field given as undefined means "not given", so it must not hide the one below.

/** `value` without its undefined fields, for spreading over defaults or what was kept before. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
