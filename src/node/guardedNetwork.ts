// The command line's network: the address policy is applied where Node resolves a name to connect (an undici
// dispatcher's `connect.lookup`), so the address checked is the address connected; a second DNS answer has nothing
// to slip past. The MCP server's probe reports the address its socket really reached.
import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { classifyAddress, type AddressClass, type DestinationPolicy } from '../core/addresses';
import type { Network } from '../core/ports';
import { checkedLookup, refusingForbiddenAddresses, systemLookup, type Lookup } from './checkedLookup';

/** The platform fetch, given the dispatcher that connects for it. */
export type DispatchingFetch = (input: URL, init: RequestInit & { dispatcher: Dispatcher }) => Promise<Response>;

export interface GuardedNetworkOptions {
  readonly fetch: DispatchingFetch;
  /** Node's resolver by default (looked up at each call, as `net` does). */
  readonly lookup?: Lookup;
}

export function createGuardedNetwork(options: GuardedNetworkOptions): Network {
  const lookup = options.lookup ?? systemLookup;
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
    fetch(url, init, policy) {
      return refusingForbiddenAddresses(url, policy, () => options.fetch(url, { ...init, dispatcher: agentFor(policy) }));
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

function recordingConnector(lookup: Lookup, onConnect: (socket: Socket) => void): buildConnector.connector {
  const connect = buildConnector({ lookup });
  return (connectOptions, callback) => connect(connectOptions, (...result) => {
    if (result[1]) onConnect(result[1]);
    callback(...result);
  });
}
