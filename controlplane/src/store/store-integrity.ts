/**
 * Whether the database file can be trusted with writes. Checked once at open with
 * `PRAGMA quick_check` (the page and record structure of every b-tree, without the index
 * cross-checks of integrity_check: about 0.2 s on a 100 MB database, cheap enough for every
 * start), and flipped for good when a statement later reports corruption (SQLITE_CORRUPT*,
 * SQLITE_NOTADB; see isCorruptionError in errors.ts). A damaged store answers reads while it can; writes are refused (503) and
 * /readyz says why, because every write to a damaged file can only fail or make it worse.
 */
import type Database from 'better-sqlite3';

export type StoreHealth = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Messages of quick_check kept in the reason. */
const MAX_MESSAGES = 3;

export function quickCheck(db: Database.Database): StoreHealth {
  try {
    const rows = db.pragma(`quick_check(${MAX_MESSAGES})`) as { quick_check: string }[];
    const messages = rows.map((r) => r.quick_check);
    if (messages.length === 1 && messages[0] === 'ok') return { ok: true };
    return { ok: false, reason: `integrity check failed: ${messages.join('; ')}` };
  } catch (err) {
    return { ok: false, reason: `integrity check failed: ${(err as Error).message}` };
  }
}
