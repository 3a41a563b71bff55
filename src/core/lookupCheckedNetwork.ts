// The network for platforms that may not connect where they resolve (the editor's, which goes through the person's
// proxy when one is set): addresses are checked on a lookup made just before each request, and the platform checks
// again where it connects when the connection is its own. What the probe reached is the address its socket connected
// to when the platform knows it, else the lookup's.
import { classifyAddress, forbiddenAddress, isAddressAllowed, type AddressClass } from './addresses';
import { KeyringError, toKeyringError } from './errors';
import type { Network, ResolveHost } from './ports';

/** A platform network whose probe cannot always tell which address answered (a proxy's socket says nothing of it). */
export interface PlatformNetwork {
  fetch: Network['fetch'];
  probe(url: URL, init: RequestInit): Promise<{ readonly response: Response; readonly addressClass?: AddressClass }>;
}

export function lookupCheckedNetwork(platform: PlatformNetwork, resolveHost: ResolveHost): Network {
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
      return platform.fetch(url, init, policy);
    },
    async probe(url, init) {
      const looked = sharedClass(await resolve(url.hostname));
      const { response, addressClass } = await platform.probe(url, init);
      return { response, addressClass: addressClass ?? looked };
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
