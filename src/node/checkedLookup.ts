// The address policy applied where Node resolves a name to connect: a `lookup` hook that refuses any answer the policy
// does not allow, inside the connection attempt, so the address checked is the address connected. Shared by the
// command line's undici dispatcher and the editor's http(s) requests.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { forbiddenAddress, isAddressAllowed, isIpLiteral, type DestinationPolicy } from '../core/addresses';

export type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** Node's resolver, looked up at each call as `net` does. */
export const systemLookup: Lookup = (hostname, options, callback) => dns.lookup(hostname, options, callback as never);

/** Refuses, inside the connection attempt, any answer the policy does not allow. */
export function checkedLookup(lookup: Lookup, policy: DestinationPolicy): Lookup {
  return (hostname, lookupOptions, callback) => {
    lookup(hostname, lookupOptions, (error, answer, family) => {
      if (error) return callback(error, answer, family);
      const addresses = typeof answer === 'string' ? [answer] : answer.map((entry) => entry.address);
      const refused = addresses.find((address) => !isAddressAllowed(address, policy));
      if (refused !== undefined) return callback(new AddressRefused(refused), answer, family);
      callback(null, answer, family);
    });
  };
}

/** Carried out of the connection attempt by the platform's error chain, to be told in the engine's words with the URL. */
class AddressRefused extends Error {
  constructor(readonly address: string) {
    super('the address is not allowed by the address policy');
  }
}

/**
 * Runs a request whose connections resolve through a `checkedLookup`: an IP literal, which Node connects to without a
 * lookup, is checked first (it cannot change on the way), and a refusal comes out as `forbidden_address` for `url`.
 */
export async function refusingForbiddenAddresses<T>(url: URL, policy: DestinationPolicy, request: () => Promise<T>): Promise<T> {
  if (isIpLiteral(url.hostname) && !isAddressAllowed(url.hostname, policy)) throw forbiddenAddress(url, url.hostname);
  try {
    return await request();
  } catch (error) {
    const refused = refusedAddressIn(error);
    throw refused === undefined ? error : forbiddenAddress(url, refused);
  }
}

function refusedAddressIn(error: unknown): string | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof AddressRefused) return cause.address;
  }
  return undefined;
}
