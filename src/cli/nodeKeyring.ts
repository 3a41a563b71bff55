// Composition root of the command line: the engine over the file store, the loopback receiver, the browser
// opener and Node's fetch, whose connections to servers the MCP server names are checked where they are made.
import type { DeviceCodePrompt, OpenUrl, Logger } from '../core/ports';
import { Keyring } from '../core/keyring';
import { createBrowserOpener } from '../node/browserOpener';
import { FileStore, defaultStoreDirectory } from '../node/fileStore';
import { LoopbackReceiver } from '../node/loopbackReceiver';
import { createGuardedNetwork } from '../node/guardedNetwork';
import type { CliOptions } from './options';
import { RememberedServerOptions } from './rememberedOptions';

export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Where to show the sign-in URL when the browser is not opened. */
  readonly printSignInUrl: (url: string) => void;
  /** Where to show the user code of a device sign-in. */
  readonly printDeviceCode: (prompt: DeviceCodePrompt) => void;
  /** Replaces the browser (tests play the person at the browser). */
  readonly openUrl?: OpenUrl;
}

export interface NodeKeyring {
  readonly keyring: Keyring;
  /** What the command line keeps of each server's options between runs; the engine reads it as the server's settings. */
  readonly rememberedOptions: RememberedServerOptions;
}

export async function createNodeKeyring(options: CliOptions, environment: CliEnvironment): Promise<NodeKeyring> {
  const store = await FileStore.open(options.storeDirectory ?? defaultStoreDirectory(process.platform, environment.env));
  const rememberedOptions = new RememberedServerOptions(store);
  const browser: OpenUrl | undefined = environment.openUrl
    ?? (options.openBrowser ? createBrowserOpener({ command: options.browserCommand, env: environment.env, logger: environment.logger }) : undefined);
  const openUrl: OpenUrl = browser ?? ((url) => Promise.resolve(environment.printSignInUrl(url)));
  const keyring = Keyring.create({
    store,
    serverOptions: (canonicalUrl) => rememberedOptions.get(canonicalUrl),
    fetch: (input, init) => fetch(input, init),
    network: createGuardedNetwork({ fetch: (input, init) => fetch(input, init) }),
    openUrl,
    // The code is printed in any case; the browser is a convenience, and one that fails leaves the printed way.
    showDeviceCode: async (prompt) => {
      environment.printDeviceCode(prompt);
      await browser?.(prompt.verificationUriComplete ?? prompt.verificationUri).catch((error: unknown) => {
        environment.logger.warn(`[signIn] the browser did not open (${error instanceof Error ? error.message : 'unknown error'}); use the address above`);
      });
    },
    // A port the person chose is used as given; otherwise one a registration was made for, when it is free.
    createReceiver: (context) => LoopbackReceiver.start({ port: options.port, preferredPorts: context.registeredLoopbackPorts, logger: environment.logger, timeoutMs: options.callbackTimeoutMs }),
    logger: environment.logger,
    timeoutMs: options.requestTimeoutMs,
  });
  return { keyring, rememberedOptions };
}
