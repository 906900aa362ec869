/**
 * The control plane's environment fallbacks: every `--flag-name` may instead be given as
 * `SPOOKY_CP_FLAG_NAME`, by the rules the data plane's `SPOOKY_DP_*` follow too (@spooky/plumbing's
 * flag-env.ts has them). The settings parsers (settings.ts and the *-settings.ts beside it) take
 * these three functions from here, so the prefix is written once.
 */
import { flagEnv } from '@spooky/plumbing';

export type { FlagValue } from '@spooky/plumbing';

export const { envNameOf, mergeEnvFallbacks, sourceName } = flagEnv('SPOOKY_CP');
