// The `mcp-keyring` executable: process wiring only; everything else is in runCli.
import { runCli } from './runCli';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
process.exitCode = exitCode;
