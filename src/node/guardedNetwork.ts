// The command line's network: the address policy is applied where Node resolves a name to connect (an undici
// dispatcher's `connect.lookup`), so the address checked is the address connected; a second DNS answer has nothing
// to slip past. The MCP server's probe reports the address its socket really reached.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { classifyAddress, forbiddenAddress, isAddressAllowed, isIpLiteral, type AddressClass, type DestinationPolicy } from '../core/addresses';
import type { Network } from '../core/ports';

/** The platform fetch, given the dispatcher that connects for it. */
export type DispatchingFetch = (input: URL, init: RequestInit & { dispatcher: Dispatcher }) => Promise<Response>;

export type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export interface GuardedNetworkOptions {
  readonly fetch: DispatchingFetch;
  /** Node's resolver by default (looked up at each call, as `net` does). */
  readonly lookup?: Lookup;
}

export function createGuardedNetwork(options: GuardedNetworkOptions): Network {
  const lookup: Lookup = options.lookup ?? ((hostname, lookupOptions, callback) => dns.lookup(hostname, lookupOptions, callback as never));
  // One connection pool per policy: a connection checked for one server's policy never serves another's.
  const agents = new Map<AddressClass, Agent>();
  const agentFor = (policy: DestinationPolicy): Agent => {
    let agent = agents.get(policy.serverAddressClass);
    if (!agent) {
      agent = new Agent({ connect: { lookup: checkedLookup(lookup, policy) } });
      agents.set(policy.serverAddressClass, agent);
    }
    return agent;
  };
  return {
    async fetch(url, init, policy) {
      // `net` connects to an IP literal without a lookup, so it is checked here; it cannot change on the way.
      if (isIpLiteral(url.hostname) && !isAddressAllowed(url.hostname, policy)) throw forbiddenAddress(url, url.hostname);
      try {
        return await options.fetch(url, { ...init, dispatcher: agentFor(policy) });
      } catch (error) {
        const refused = refusedAddressIn(error);
        throw refused === undefined ? error : forbiddenAddress(url, refused);
      }
    },
    async probe(url, init) {
      // A pool of its own, so the probe opens a socket and can tell which address answered.
      let connected: string | undefined;
      const agent = new Agent({ connect: recordingConnector(lookup, (socket) => (connected = socket.remoteAddress)) });
      try {
        const response = await options.fetch(url, { ...init, dispatcher: agent });
        return { response, addressClass: connected === undefined ? 'reserved' : classifyAddress(connected) };
      } finally {
        // Closing waits for the body still being read; a failure to close must not become an unhandled rejection.
        void agent.close().catch(() => undefined);
      }
    },
  };
}

/** Refuses, inside the connection attempt, any answer the policy does not allow. */
function checkedLookup(lookup: Lookup, policy: DestinationPolicy): Lookup {
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

/** Carried out of the connection attempt by fetch's error chain, to be told in the engine's words with the URL. */
class AddressRefused extends Error {
  constructor(readonly address: string) {
    super('the address is not allowed by the address policy');
  }
}

function refusedAddressIn(error: unknown): string | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof AddressRefused) return cause.address;
  }
  return undefined;
}

function recordingConnector(lookup: Lookup, onConnect: (socket: Socket) => void): buildConnector.connector {
  const connect = buildConnector({ lookup });
  return (connectOptions, callback) => connect(connectOptions, (...result) => {
    if (result[1]) onConnect(result[1]);
    callback(...result);
  });
}
