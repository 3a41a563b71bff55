// HTTP Basic client authentication (RFC 6749 §2.3.1): client id and secret each form-encoded (Appendix B), joined by
// a colon, base64-encoded. oauth4webapi's own version also escapes the unreserved characters `-`, `.`, `_` and `~`;
// servers that decode Basic credentials without form-decoding them (the MCP conformance suite's, and others) then
// see a different client id. Here only what the encoding must escape is escaped.
import type * as oauth from 'oauth4webapi';

/** application/x-www-form-urlencoded as Appendix B applies it: unreserved characters as they are, space as `+`. */
export function formEncodeCredential(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

export function clientSecretBasic(clientSecret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${formEncodeCredential(client.client_id)}:${formEncodeCredential(clientSecret)}`;
    // The form encoding leaves only ASCII, which is what btoa takes.
    headers.set('authorization', `Basic ${btoa(credentials)}`);
  };
}

