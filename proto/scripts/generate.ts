/**
 * Regenerates proto/gen/ from proto/spooky/**.proto with buf + ts-proto (no protoc needed).
 * `--check` regenerates into a temporary folder and exits 1 if the result differs from the
 * committed gen/ (the test command runs it so gen/ never drifts from the .proto files).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const buf = join(protoDir, '..', 'node_modules', '.bin', 'buf');

const work = mkdtempSync(join(tmpdir(), 'spooky-proto-'));
try {
  cpSync(join(protoDir, 'spooky'), join(work, 'spooky'), { recursive: true });
  cpSync(join(protoDir, 'buf.yaml'), join(work, 'buf.yaml'));
  const template = readFileSync(join(protoDir, 'buf.gen.yaml'), 'utf8').replace(
    '../node_modules/ts-proto/protoc-gen-ts_proto',
    join(protoDir, '..', 'node_modules', 'ts-proto', 'protoc-gen-ts_proto'),
  );
  execFileSync(buf, ['generate', '--template', template], { cwd: work, stdio: 'inherit' });
  const fresh = join(work, 'gen');
  const committed = join(protoDir, 'gen');
  if (check) {
    const a = snapshot(fresh);
    const b = snapshot(committed);
    const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    if (differing.length > 0) {
      console.error(`proto/gen is stale; run \`npm run generate\`. Differs: ${differing.join(', ')}`);
      process.exit(1);
    }
    console.log('proto/gen is up to date');
  } else {
    rmSync(committed, { recursive: true, force: true });
    cpSync(fresh, committed, { recursive: true });
    console.log(`generated ${[...snapshot(committed).keys()].join(', ')}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  try {
    walk(dir);
  } catch {
    // missing dir = empty snapshot
  }
  return out;
}
