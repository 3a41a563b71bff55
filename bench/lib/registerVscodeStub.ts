// Loaded with `node --import`: resolves `import 'vscode'` to vscodeStub.ts for this process.
import { register } from 'node:module';

const stubUrl = new URL('./vscodeStub.ts', import.meta.url).href;
const hooks = `export async function resolve(specifier, context, next) {
  return next(specifier === 'vscode' ? ${JSON.stringify(stubUrl)} : specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
