/**
 * Environment fallbacks of the control plane's flags: every `--flag-name` may instead be given as
 * `SPOOKY_CP_FLAG_NAME`. The same rules as the data plane's `SPOOKY_DP_*`
 * (dataplane/src/bootstrap/flag-env.ts); the two are kept alike by hand because the planes never
 * import each other (the dependency rule). Pure: parsed flag values and the environment in,
 * merged values (or an error naming the variable) out.
 *
 * Rules, one for every flag:
 * - a flag on the command line wins: its variable is then not read at all (not even checked);
 * - an empty variable counts as not set (systemd's `Environment=NAME=` clears a setting);
 * - a value from a variable is taken exactly as the flag's value would be, validated the same
 *   way, and the error then names the variable instead of the flag (`sourceName`);
 * - a boolean flag's variable is `1`/`true` (set) or `0`/`false` (not set), anything else is
 *   an error.
 */

/** What parseArgs returns for one option (the control plane has no repeatable flag). */
export type FlagValue = string | boolean | undefined;

/** The parseArgs option table this merges over (its type is all it reads). */
export type FlagOptions = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;

export type EnvMerge =
  | { readonly ok: true; readonly values: Record<string, FlagValue>; readonly fromEnv: ReadonlySet<string> }
  | { readonly ok: false; readonly error: string };

/** `log-level` → `SPOOKY_CP_LOG_LEVEL`. */
export function envNameOf(flag: string): string {
  return `SPOOKY_CP_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Fills every flag not on the command line from its variable (see the rules above). */
export function mergeEnvFallbacks(values: Readonly<Record<string, FlagValue>>, options: FlagOptions, env: Readonly<Record<string, string | undefined>>): EnvMerge {
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
    } else {
      merged[flag] = text;
    }
    fromEnv.add(flag);
  }
  return { ok: true, values: merged, fromEnv };
}

/** How an error names where `flag`'s value came from: `--flag` or its variable. */
export function sourceName(flag: string, fromEnv: ReadonlySet<string>): string {
  return fromEnv.has(flag) ? envNameOf(flag) : `--${flag}`;
}
