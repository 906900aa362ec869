/**
 * Standalone mode: one config file (YAML or JSON) read at start, validated with the same
 * parseConfigText the control plane uses, and turned into what the serving applier takes:
 * canonical JSON bytes plus a ref {scope: "local", seq: 0, digest}.
 * Relative certificate paths inside the file resolve against the working directory.
 */
import { readFile } from 'node:fs/promises';
import { type ConfigIssue, canonicalJson, digest, parseConfigText } from '@spooky/config';
import type { GenerationRef } from '../control/generation-applier.ts';

export type LoadedConfig =
  | { readonly ok: true; readonly payload: Uint8Array; readonly ref: GenerationRef }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, issues: [{ pointer: '', code: 'config.unreadable', message: `cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}` }] };
  }
  const parsed = parseConfigText(text);
  if (!parsed.ok) return parsed;
  const payload = Buffer.from(canonicalJson(parsed.config), 'utf8');
  return { ok: true, payload, ref: { scope: 'local', seq: 0, digest: digest(parsed.config) } };
}
