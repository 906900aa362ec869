/**
 * The Node version gate of the control plane's entry points (spookyctl, the control-plane
 * process). Their code is TypeScript run by Node's type stripping (Node >= 24); an older Node
 * fails on it with ERR_UNKNOWN_FILE_EXTENSION, which says nothing about the fix. This file is
 * plain JavaScript that any Node with ES modules parses (no types, no top-level await), so the
 * launcher beside each entry can say what is needed before the TypeScript is loaded.
 *
 * Contract: `launch(name, entryUrl)` on Node >= 24 imports entryUrl (the entry then runs and sets
 * its own exit code); on an older Node it prints "<name> needs Node ≥ 24 (found vX)" (on stdout
 * as spookyctl's JSON error document when argv has --json, else on stderr) and sets exit code 1.
 */
export const MIN_NODE_MAJOR = 24;

export function launch(name, entryUrl) {
  const found = process.versions.node;
  const major = Number(found.split('.')[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    const message = `${name} needs Node ≥ ${MIN_NODE_MAJOR} (found v${found})`;
    if (process.argv.includes('--json')) {
      const body = { error: { code: 'node_version', message, status: null, issues: [] }, exitCode: 1 };
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      process.stderr.write(`error: ${message}\nhint: run it with Node ${MIN_NODE_MAJOR} or newer (source scripts/toolchain.sh puts one on PATH)\n`);
    }
    process.exitCode = 1;
    return;
  }
  import(entryUrl).catch((err) => {
    process.stderr.write(`error: ${name} failed to start: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
