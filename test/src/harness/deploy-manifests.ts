/**
 * Readers for deploy/'s container material, for test/src/deploy-*.test.ts (no Docker engine,
 * no kubectl or kustomize binary is assumed): a Dockerfile split into stages and instructions,
 * multi-document YAML, and a Kustomize tree loaded the way `kustomize build` starts — its resources
 * (recursively through bases) and the names its ConfigMap/Secret generators make, with the files
 * each generator reads. Patches are not applied; callers check them against what they target.
 * Also: systemd unit files and their ExecStart expansion, Markdown heading anchors, certificate SANs.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Instruction {
  /** Upper-case instruction, e.g. `COPY`. */
  readonly op: string;
  /** Everything after the instruction, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly base: string;
  readonly name: string | null;
  readonly instructions: readonly Instruction[];
}

const INSTRUCTIONS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD',
  'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

/**
 * The stages of a Dockerfile. Throws on an unknown instruction, an instruction before the first
 * FROM (other than ARG), or a JSON-form (exec form) argument list that is not a JSON string array.
 */
export function parseDockerfile(text: string): Stage[] {
  const stages: { base: string; name: string | null; instructions: Instruction[] }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] as string;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i] as string;
      if (next.trimStart().startsWith('#')) continue;
      line = `${line.slice(0, -1)} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${line}`);
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (!INSTRUCTIONS.has(op)) throw new Error(`Dockerfile line ${start + 1}: unknown instruction ${op}`);
    if (['CMD', 'ENTRYPOINT', 'RUN', 'SHELL', 'VOLUME'].includes(op) && args.startsWith('[')) {
      const parsed: unknown = JSON.parse(args);
      if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`Dockerfile line ${start + 1}: exec form must be a JSON string array`);
    }
    if (op === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile line ${start + 1}: FROM image [AS name]`);
      stages.push({ base: from[1] as string, name: from[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (op === 'ARG') continue;
      throw new Error(`Dockerfile line ${start + 1}: ${op} before FROM`);
    }
    stage.instructions.push({ op, args, line: start + 1 });
  }
  return stages;
}

/** Every YAML document of a file (throws on a YAML error, with the file named). */
export function yamlDocuments(file: string): Record<string, unknown>[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    return doc.toJS() as Record<string, unknown>;
  });
}

/** One generated ConfigMap or Secret: its name and the local files it reads (absolute paths). */
export interface Generated {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly name: string;
  /** Data key → absolute source file. */
  readonly files: ReadonlyMap<string, string>;
}

export interface KustomizeTree {
  /** The documents of every resource file, bases first. */
  readonly resources: readonly Record<string, unknown>[];
  readonly generated: readonly Generated[];
  /** Each kustomization.yaml read, with its directory. */
  readonly kustomizations: readonly { dir: string; doc: Record<string, unknown> }[];
}

/** Loads `dir`/kustomization.yaml and, recursively, the directories it lists as resources. */
export function loadKustomization(dir: string): KustomizeTree {
  const resources: Record<string, unknown>[] = [];
  const generated: Generated[] = [];
  const kustomizations: { dir: string; doc: Record<string, unknown> }[] = [];
  const visit = (at: string): void => {
    const [doc] = yamlDocuments(join(at, 'kustomization.yaml'));
    if (!doc) throw new Error(`${at}/kustomization.yaml is empty`);
    kustomizations.push({ dir: at, doc });
    for (const entry of (doc['resources'] as string[] | undefined) ?? []) {
      const path = resolve(at, entry);
      if (entry.endsWith('.yaml') || entry.endsWith('.yml')) resources.push(...yamlDocuments(path));
      else visit(path);
    }
    for (const [key, kind] of [['configMapGenerator', 'ConfigMap'], ['secretGenerator', 'Secret']] as const) {
      for (const gen of (doc[key] as { name: string; files?: string[]; envs?: string[] }[] | undefined) ?? []) {
        const files = new Map<string, string>();
        for (const f of gen.files ?? []) {
          const eq = f.indexOf('=');
          const source = eq < 0 ? f : f.slice(eq + 1);
          files.set(eq < 0 ? source.split('/').at(-1) ?? source : f.slice(0, eq), resolve(at, source));
        }
        for (const e of gen.envs ?? []) files.set(`envs:${e}`, resolve(at, e));
        generated.push({ kind, name: gen.name, files });
      }
    }
  };
  visit(dir);
  return { resources, generated, kustomizations };
}

/** `KEY=VALUE` lines of an env file (comments and blanks skipped): systemd EnvironmentFile, kustomize `envs`. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1] as string] = m[2] as string;
  }
  return env;
}

/** `$(NAME)` references expanded from `vars`, as the kubelet does for args and env values. */
export function expandKubeVars(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => vars[name] ?? whole);
}

/** The directory a file path is in (for "is this file under that mount"). */
export function isUnder(file: string, dir: string): boolean {
  return dirname(file) === dir.replace(/\/$/, '');
}

/** The [Section] Key=value pairs of a unit file; repeated keys keep every value. */
export function parseUnit(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = head[1] as string;
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (!kv) throw new Error(`unit line is not Key=value: ${line}`);
    const key = `${section}.${kv[1]}`;
    keys.set(key, [...(keys.get(key) ?? []), kv[2] as string]);
  }
  return keys;
}

/** ExecStart's words after systemd's expansion: `${X}` is one word, `$X` split at whitespace, `%H` the host. */
export function expandExecStart(line: string, env: Record<string, string>): string[] {
  return line.split(/\s+/).flatMap((word) => {
    const braced = /^\$\{(\w+)\}$/.exec(word);
    if (braced) return [env[braced[1] as string] ?? ''];
    const bare = /^\$(\w+)$/.exec(word);
    if (bare) return (env[bare[1] as string] ?? '').split(/\s+/).filter((w) => w !== '');
    return [word.replaceAll('%H', 'edge-1')];
  });
}

/** GitHub's heading anchors of a Markdown file. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add((m[1] as string).trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return anchors;
}

/** SANs of a PEM certificate file, in Node's `subjectAltName` form. */
export function sansOf(file: string): string {
  return new X509Certificate(readFileSync(file)).subjectAltName ?? '';
}
