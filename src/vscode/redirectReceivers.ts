// The engine's receiver factory for the editor: the redirect of whichever strategy the running sign-in to that server
// is trying now (the URI handler, a loopback listener, or pasting the final URL).
import type { CreateReceiver, Logger, RedirectReceiver } from '../core/ports';
import { LoopbackReceiver } from '../node/loopbackReceiver';
import { PasteUrlReceiver } from './pasteUrlReceiver';
import type { RedirectStrategy } from '../core/vocabulary';

/** How long one strategy may wait for the browser before the person is offered the next one. */
export const WAIT_FOR_BROWSER_MS = 5 * 60_000;

export class RedirectReceivers {
  /** The strategy each running sign-in uses, by canonical server URL. */
  private readonly strategies = new Map<string, RedirectStrategy>();

  constructor(
    private readonly createUriHandlerReceiver: () => Promise<RedirectReceiver>,
    private readonly logger: Logger,
  ) {}

  use(serverUrl: string, strategy: RedirectStrategy): void {
    this.strategies.set(serverUrl, strategy);
  }

  forget(serverUrl: string): void {
    this.strategies.delete(serverUrl);
  }

  readonly create: CreateReceiver = (context) => {
    switch (this.strategies.get(context.serverUrl) ?? 'loopback') {
      case 'uriHandler':
        return this.createUriHandlerReceiver();
      case 'pasteUrl':
        return Promise.resolve(new PasteUrlReceiver());
      case 'loopback':
      case 'deviceCode': // the device flow asks for no receiver, so this is not reached; loopback is the safe answer
        return LoopbackReceiver.start({ preferredPorts: context.registeredLoopbackPorts, logger: this.logger, timeoutMs: WAIT_FOR_BROWSER_MS });
    }
  };
}
