// The `mcp-keyring` executable: process wiring only; everything else is in runCli.
import { runCli } from './runCli';

// Ctrl-C (or a service manager's SIGTERM) cancels what the command is waiting for: a browser, a device code, a
// backoff, a tool call. A refresh already sent is still seen through and stored (see CredentialManager); a second
// signal quits at once.
const interruption = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interruption.signal.aborted) process.exit(130);
    process.stderr.write('mcp-keyring: stopping (press Ctrl-C again to quit at once)\n');
    interruption.abort();
  });
}

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  interruption: interruption.signal,
});
process.exitCode = exitCode;
