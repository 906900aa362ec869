/**
 * Turns a submitted config document into a parsed Config or a typed failure. Pure: the one
 * place that decides which parse issues mean "unparseable" (400), "too large" (413) or
 * "invalid" (422).
 */
import { type Config, type ConfigFormat, type ConfigIssue, canonicalJson, digest, parseConfigText } from '@spooky/config';

export interface ConfigSubmission {
  readonly text: string;
  /** Omitted → sniffed (`{` first → JSON, else YAML). */
  readonly format?: ConfigFormat;
}

export type ParsedSubmission =
  | {
      readonly kind: 'ok';
      readonly config: Config;
      readonly canonical: string;
      readonly digest: string;
      readonly sizeBytes: number;
    }
  | { readonly kind: 'unparseable' | 'too_large' | 'invalid'; readonly issues: readonly ConfigIssue[] };

export function parseSubmission(submission: ConfigSubmission): ParsedSubmission {
  const result = parseConfigText(submission.text, submission.format);
  if (!result.ok) {
    const codes = new Set(result.issues.map((i) => i.code));
    if (codes.has('config.too_large')) return { kind: 'too_large', issues: result.issues };
    if (codes.has('config.syntax')) return { kind: 'unparseable', issues: result.issues };
    return { kind: 'invalid', issues: result.issues };
  }
  const canonical = canonicalJson(result.config);
  return {
    kind: 'ok',
    config: result.config,
    canonical,
    digest: digest(canonical),
    sizeBytes: Buffer.byteLength(canonical),
  };
}
