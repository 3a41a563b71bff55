// Starts an HTTP server on the IPv4 loopback literal only (RFC 8252 §8.3: not `localhost`, which may resolve
// elsewhere or to IPv6 first), and reports the port it got.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyringError, shortErrorCode } from '../core/errors';

export const LOOPBACK_HOST = '127.0.0.1';

export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new KeyringError('network', `could not listen on ${LOOPBACK_HOST}:${port} (${shortErrorCode(error)})`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, LOOPBACK_HOST, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
