// The few pieces of the `vscode` module the authentication provider touches at run time, so the bench can measure
// the provider outside the editor. Everything else about the editor is measured inside it (sections/extensionCost).
import { Emitter } from '../../src/core/events';

export class EventEmitter<T> extends Emitter<T> {}

export const l10n = {
  t: (message: string) => message,
};
