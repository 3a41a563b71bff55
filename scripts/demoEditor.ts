// Which editor `npm run demo` opens, and how: the person's own VS Code (the `code` command) when it is installed, in
// a throwaway profile and extensions folder so their own setup is neither read nor changed; else code-server, VS Code
// in the browser. Pure, so the choice and the arguments are tested on every platform from one.
import path from 'node:path';

export type DemoEditor = { readonly kind: 'vscode'; readonly command: string } | { readonly kind: 'codeServer' };

export interface Platform {
  readonly os: NodeJS.Platform;
  readonly env: NodeJS.ProcessEnv;
  /** Whether a file exists at the path (the caller checks it is a file). */
  readonly isFile: (file: string) => boolean;
}

/** Where a shell would find `name`: the PATH in order, and on Windows with each PATHEXT ending (`code.cmd`). */
export function findOnPath(name: string, { os, env, isFile }: Platform): string | undefined {
  const paths = os === 'win32' ? path.win32 : path.posix;
  // Windows spells the variable Path; Node's env lookup there ignores case, a plain object does not.
  const searchPath = env.PATH ?? env.Path ?? '';
  const endings = os === 'win32' ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean) : [''];
  for (const dir of searchPath.split(os === 'win32' ? ';' : ':').filter(Boolean)) {
    for (const ending of endings) {
      const candidate = paths.join(dir, name + ending.toLowerCase());
      if (isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

export function chooseDemoEditor(platform: Platform): DemoEditor {
  const command = findOnPath('code', platform);
  return command ? { kind: 'vscode', command } : { kind: 'codeServer' };
}

/** The throwaway profile's folders, all inside one directory the demo removes when it stops. */
export function demoProfileDirs(profileDir: string, os: NodeJS.Platform): { userDataDir: string; extensionsDir: string; workspaceDir: string } {
  const paths = os === 'win32' ? path.win32 : path.posix;
  const join = (...parts: string[]) => paths.join(...parts);
  return { userDataDir: join(profileDir, 'user-data'), extensionsDir: join(profileDir, 'extensions'), workspaceDir: join(profileDir, 'workspace') };
}

/** `code` arguments: first install the .vsix into the throwaway extensions folder, then open a window on it. */
export function vscodeDemoArgs(profileDir: string, vsix: string, os: NodeJS.Platform): { install: string[]; open: string[] } {
  const { userDataDir, extensionsDir, workspaceDir } = demoProfileDirs(profileDir, os);
  const profile = [`--user-data-dir=${userDataDir}`, `--extensions-dir=${extensionsDir}`];
  return {
    install: [...profile, '--install-extension', vsix, '--force'],
    // --new-window: with its own user data folder this is a separate VS Code instance; --wait keeps `code` running
    // until that window closes, so closing the window ends the demo too.
    open: [...profile, '--new-window', '--wait', '--skip-welcome', '--skip-release-notes', '--disable-workspace-trust', workspaceDir],
  };
}
