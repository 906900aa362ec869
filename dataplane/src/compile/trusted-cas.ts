/**
 * The CAs trusted for HTTPS backends: `upstream_tls.ca_file` (or an upstream's own `tls.ca_file`) (one PEM bundle) and/or
 * `upstream_tls.ca_dir` (every `*.pem` / `*.crt` file in it, in name order, not recursive),
 * concatenated. Either set replaces the system roots (node's `ca` option). Read at compile time;
 * an unreadable file or a directory with no certificate is an issue at its pointer, and a
 * directory is bounded (MAX_CA_DIR_FILES files, MAX_CA_BYTES in total) so a wrong path such as
 * `/` cannot stall the apply. Messages name the path, never file content.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigIssue } from '@spooky/config';

export const MAX_CA_DIR_FILES = 1000;
export const MAX_CA_BYTES = 16 * 1024 * 1024;

const PEM_CERT = '-----BEGIN CERTIFICATE-----';

function errCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? ` (${code})` : '';
}

function readCaFile(path: string, pointer: string, issues: ConfigIssue[]): string | null {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes(PEM_CERT)) {
      issues.push({ pointer: `${pointer}/ca_file`, code: 'tls.ca_file.unreadable', message: `${path} holds no PEM certificate` });
      return null;
    }
    return text;
  } catch (err) {
    issues.push({ pointer: `${pointer}/ca_file`, code: 'tls.ca_file.unreadable', message: `cannot read ${path}${errCode(err)}` });
    return null;
  }
}

function readCaDir(dir: string, pointer: string, issues: ConfigIssue[]): string | null {
  const fail = (message: string): null => {
    issues.push({ pointer: `${pointer}/ca_dir`, code: 'tls.ca_dir.unreadable', message });
    return null;
  };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.pem') || n.endsWith('.crt')).sort();
  } catch (err) {
    return fail(`cannot read directory ${dir}${errCode(err)}`);
  }
  if (names.length > MAX_CA_DIR_FILES) return fail(`${dir} holds ${names.length} *.pem / *.crt files; at most ${MAX_CA_DIR_FILES} are read`);
  const parts: string[] = [];
  let bytes = 0;
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      return fail(`cannot read ${path}${errCode(err)}`);
    }
    bytes += Buffer.byteLength(text);
    if (bytes > MAX_CA_BYTES) return fail(`the CA files in ${dir} are over ${MAX_CA_BYTES} bytes together`);
    if (text.includes(PEM_CERT)) parts.push(text.endsWith('\n') ? text : `${text}\n`);
  }
  if (parts.length === 0) return fail(`${dir} holds no *.pem / *.crt file with a PEM certificate`);
  return parts.join('');
}

/**
 * PEM text of every trusted CA, or null for the system roots. `pointer` is the object the
 * paths come from (`/upstream_tls`, or `/upstream/<name>/tls` for an upstream's own CAs).
 */
export function trustedCas(tls: { readonly ca_file: string | null; readonly ca_dir: string | null }, issues: ConfigIssue[], pointer = '/upstream_tls'): string | null {
  const file = tls.ca_file === null ? null : readCaFile(tls.ca_file, pointer, issues);
  const dir = tls.ca_dir === null ? null : readCaDir(tls.ca_dir, pointer, issues);
  if (file === null && dir === null) return null;
  if (file === null) return dir;
  if (dir === null) return file;
  return `${file.endsWith('\n') ? file : `${file}\n`}${dir}`;
}
