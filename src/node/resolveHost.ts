// Looks up a host's addresses the way the OS will when connecting, so the engine can check them against its
// address policy before any request leaves the machine.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KeyringError, shortErrorCode } from '../core/errors';
import type { ResolveHost } from '../core/ports';

/** IP literals (IPv6 with or without the URL brackets) are their own address; everything else goes to DNS. */
export const resolveHost: ResolveHost = async (hostname) => {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) return [bare];
  try {
    // verbatim: keep the resolver's order, which is the order a connection will try them in.
    const answers = await lookup(bare, { all: true, verbatim: true });
    return answers.map((answer) => answer.address);
  } catch (error) {
    throw new KeyringError('network', `could not resolve ${bare} (${shortErrorCode(error)})`, { cause: error });
  }
};
