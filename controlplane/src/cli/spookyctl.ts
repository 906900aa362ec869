#!/usr/bin/env node
/**
 * spookyctl entry point (package bin). `node controlplane/src/cli/spookyctl.ts <command> …`;
 * see usage.ts for the commands and CONTROL-PLANE.md for the exit codes.
 */
import { runCli } from './run-cli.ts';

const code = await runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
process.exitCode = code;
