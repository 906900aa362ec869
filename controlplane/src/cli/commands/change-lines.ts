/**
 * Field-level changes as the control plane's diff returns them ({entity, id, op, path, before,
 * after}), and their one-line human form: `~ upstream app /backends/0/weight: 100 → 50`.
 */
export interface Change {
  readonly entity: string;
  readonly id: string;
  readonly op: string;
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** The changes inside a diff answer (`{changes: [...]}` or a bare array); null when absent. */
export function changesOf(diff: unknown): Change[] | null {
  const list = Array.isArray(diff) ? diff : (diff as { changes?: unknown } | null)?.changes;
  if (!Array.isArray(list)) return null;
  return list
    .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
    .map((c) => ({
      entity: String(c['entity'] ?? ''),
      id: String(c['id'] ?? ''),
      op: String(c['op'] ?? ''),
      path: String(c['path'] ?? ''),
      ...('before' in c ? { before: c['before'] } : {}),
      ...('after' in c ? { after: c['after'] } : {}),
    }));
}

const OP_MARK: Readonly<Record<string, string>> = { add: '+', remove: '-', change: '~' };

/** Human output lists at most this many changes; --json always carries all of them. */
export const MAX_CHANGE_LINES = 40;

export function changeLines(changes: readonly Change[]): string[] {
  if (changes.length === 0) return ['  (no field-level changes)'];
  const shown = changes.slice(0, MAX_CHANGE_LINES).map((c) => {
    const mark = OP_MARK[c.op] ?? c.op;
    const where = `${c.entity}${c.id === '' ? '' : ` ${c.id}`}${c.path === '' ? '' : ` ${c.path}`}`;
    if (mark === '+') return `  + ${where}: ${show(c.after)}`;
    if (mark === '-') return `  - ${where}: ${show(c.before)}`;
    return `  ${mark} ${where}: ${show(c.before)} → ${show(c.after)}`;
  });
  if (changes.length > MAX_CHANGE_LINES) shown.push(`  … and ${changes.length - MAX_CHANGE_LINES} more (--json lists all)`);
  return shown;
}

function show(value: unknown): string {
  if (value === undefined) return '∅';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
