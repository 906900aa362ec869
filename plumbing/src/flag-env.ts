/**
 * Environment fallbacks of a plane's flags: every `--flag-name` may instead be given as
 * `<PREFIX>_FLAG_NAME` — `SPOOKY_DP_*` for the data plane (dataplane/src/bootstrap/flags.ts),
 * `SPOOKY_CP_*` for the control plane (controlplane/src/settings/cp-flag-env.ts). One set of
 * rules for both, so an operator learns them once. Pure: parsed flag values and the environment
 * in, merged values (or an error naming the variable) out.
 *
 * Rules, one for every flag:
 * - a flag on the command line wins: its variable is then not read at all (not even checked);
 * - an empty variable counts as not set (systemd's `Environment=NAME=` clears a setting);
 * - a value from a variable is taken exactly as the flag's value would be, validated the same
 *   way, and the error then names the variable instead of the flag (`sourceName`);
 * - a boolean flag's variable is `1`/`true` (set) or `0`/`false` (not set), anything else is
 *   an error; a repeatable flag's variable (`SPOOKY_DP_LABEL`) is a comma-separated list.
 */

/** What parseArgs returns for one option. */
export type FlagValue = string | string[] | boolean | undefined;

/** The parseArgs option table this merges over (type and `multiple` are all it reads). */
export type FlagOptions = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly multiple?: boolean }>>;

export type EnvMerge =
  | { readonly ok: true; readonly values: Record<string, FlagValue>; readonly fromEnv: ReadonlySet<string> }
  | { readonly ok: false; readonly error: string };

/** The rules above bound to one plane's variable prefix. Its functions do not use `this` (they may be destructured). */
export interface FlagEnv {
  /** `log-level` → `<PREFIX>_LOG_LEVEL`. */
  envNameOf(flag: string): string;
  /** Fills every flag not on the command line from its variable (see the rules above). */
  mergeEnvFallbacks(values: Readonly<Record<string, FlagValue>>, options: FlagOptions, env: Readonly<Record<string, string | undefined>>): EnvMerge;
  /** How an error names where `flag`'s value came from: `--flag` or its variable. */
  sourceName(flag: string, fromEnv: ReadonlySet<string>): string;
}

/** The fallback rules for variables named `prefix` + `_` + the flag in upper snake case (`prefix`: `SPOOKY_DP`, `SPOOKY_CP`). */
export function flagEnv(prefix: string): FlagEnv {
  const envNameOf = (flag: string): string => `${prefix}_${flag.toUpperCase().replaceAll('-', '_')}`;
  const mergeEnvFallbacks = (values: Readonly<Record<string, FlagValue>>, options: FlagOptions, env: Readonly<Record<string, string | undefined>>): EnvMerge => {
    const merged: Record<string, FlagValue> = { ...values };
    const fromEnv = new Set<string>();
    for (const [flag, option] of Object.entries(options)) {
      if (values[flag] !== undefined) continue;
      const name = envNameOf(flag);
      const text = env[name];
      if (text === undefined || text === '') continue;
      if (option.type === 'boolean') {
        if (!['0', '1', 'true', 'false'].includes(text)) return { ok: false, error: `${name} must be 1, true, 0 or false (got ${JSON.stringify(text)})` };
        if (text === '0' || text === 'false') continue;
        merged[flag] = true;
      } else if (option.multiple === true) {
        const items = text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        if (items.length === 0) continue;
        merged[flag] = items;
      } else {
        merged[flag] = text;
      }
      fromEnv.add(flag);
    }
    return { ok: true, values: merged, fromEnv };
  };
  const sourceName = (flag: string, fromEnv: ReadonlySet<string>): string => (fromEnv.has(flag) ? envNameOf(flag) : `--${flag}`);
  return { envNameOf, mergeEnvFallbacks, sourceName };
}
