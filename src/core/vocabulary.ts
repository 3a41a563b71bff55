// The words a server's configuration may use, defined once: the command line's options and the editor's settings
// read them from here, and a unit test holds package.json's setting enums to them.

/** How a pre-registered client authenticates at the token endpoint. */
export const CLIENT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Grants that obtain tokens with no person involved. */
export const MACHINE_GRANT_KINDS = ['client_credentials', 'jwt-bearer', 'token-exchange'] as const;
export type MachineGrantKind = (typeof MACHINE_GRANT_KINDS)[number];

/** How the browser's answer comes back to the editor. */
export const REDIRECT_STRATEGIES = ['uriHandler', 'loopback', 'deviceCode', 'pasteUrl'] as const;
export type RedirectStrategy = (typeof REDIRECT_STRATEGIES)[number];

/** A redirect strategy to try first, or `auto` for the capability table's order. */
export const REDIRECT_PREFERENCES = ['auto', ...REDIRECT_STRATEGIES] as const;
export type RedirectPreference = (typeof REDIRECT_PREFERENCES)[number];

/** A key or token the person gives for a server that asks for no OAuth, kept in the editor's SecretStorage. */
export const STATIC_CREDENTIAL_KINDS = ['none', 'bearer', 'apiKeyHeader'] as const;
export type StaticCredentialKind = (typeof STATIC_CREDENTIAL_KINDS)[number];

/** Whether `value` is one of `words`: for settings and arguments, which arrive as anything. */
export function isOneOf<T extends string>(words: readonly T[], value: unknown): value is T {
  return (words as readonly unknown[]).includes(value);
}
