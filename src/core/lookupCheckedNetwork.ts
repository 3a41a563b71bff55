// The network for platforms whose fetch cannot be given a resolver (the editor's, which applies the person's proxy
// settings): addresses are checked on a lookup made just before the request, which the platform repeats to connect.
import { classifyAddress, forbiddenAddress, isAddressAllowed, type AddressClass } from './addresses';
import { KeyringError, toKeyringError } from './errors';
import type { FetchFn, Network, ResolveHost } from './ports';

export function lookupCheckedNetwork(fetch: FetchFn, resolveHost: ResolveHost): Network {
  const resolve = async (hostname: string): Promise<string[]> => {
    try {
      const addresses = await resolveHost(hostname);
      if (addresses.length === 0) throw new KeyringError('network', `no address found for ${hostname}`);
      return addresses;
    } catch (error) {
      throw toKeyringError(error, `looking up ${hostname}`);
    }
  };
  return {
    async fetch(url, init, policy) {
      const refused = (await resolve(url.hostname)).find((address) => !isAddressAllowed(address, policy));
      if (refused !== undefined) throw forbiddenAddress(url, refused);
      return fetch(url, init);
    },
    async probe(url, init) {
      const addressClass = sharedClass(await resolve(url.hostname));
      return { response: await fetch(url, init), addressClass };
    },
  };
}

/**
 * Only a host whose addresses all share one class earns that class; a mixed answer (a public name that also lists a
 * private address) gets the least privilege, `public`.
 */
function sharedClass(addresses: readonly string[]): AddressClass {
  const classes = new Set(addresses.map(classifyAddress));
  return classes.size === 1 ? [...classes][0]! : 'public';
}
