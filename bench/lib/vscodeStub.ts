// The few pieces of the `vscode` module the authentication provider and the servers view touch at run time, so the
// bench can measure them outside the editor. Everything else about the editor is measured inside it
// (sections/extensionCost).
import { Emitter } from '../../src/core/events';

export class EventEmitter<T> extends Emitter<T> {}

export const l10n = {
  t: (message: string) => message,
};

// What the servers view builds its items from (bench/sections/growth renders the real tree provider).
export enum TreeItemCollapsibleState { None = 0, Collapsed = 1, Expanded = 2 }

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string;
  contextValue?: string;
  iconPath?: unknown;
  constructor(readonly label: string, readonly collapsibleState?: TreeItemCollapsibleState) {}
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}
