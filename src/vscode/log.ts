// The extension's one log: a LogOutputChannel, handed to the engine as its Logger, every line redacted.
import type * as vscode from 'vscode';
import type { Logger } from '../core/ports';
import { redactingLogger } from '../core/redact';

export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return redactingLogger({
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  });
}
