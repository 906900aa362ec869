/**
 * What one spookyctl run asks for: the global options and one typed Command, as parseInvocation
 * (args.ts) returns them and run-cli.ts dispatches them. Types only.
 */
import type { PkiCommand } from './commands/pki-commands.ts';
import type { TlsTrust } from './http-transport.ts';

export interface Globals {
  /** Base URL without a trailing slash. */
  readonly server: string;
  readonly token: string | null;
  readonly scope: string;
  readonly json: boolean;
  /** Explicit Idempotency-Key for mutations; null = the command picks its default. */
  readonly idempotencyKey: string | null;
  /** --ca-file / --cert / --key (SPOOKY_CA_FILE, SPOOKY_CLIENT_CERT, SPOOKY_CLIENT_KEY): used for https:// servers. */
  readonly tls: TlsTrust;
}

/**
 * --wait was given: poll the fleet for at most `timeoutMs`. The wait succeeds only when at least
 * `minNodes` connected nodes serve the target (--min-nodes, default 0: today's "nothing to wait
 * for" when no node is connected) and every node in `requireNodes` (--require-nodes a,b) does.
 */
export interface WaitOptions {
  readonly timeoutMs: number;
  readonly minNodes: number;
  readonly requireNodes: readonly string[];
}

export type RollbackTo = 'previous' | 'lkg' | number;

export type Command =
  | { readonly kind: 'help' }
  /** `offline`: parse locally (validate --offline, lint); no server, no token. */
  | { readonly kind: 'validate'; readonly file: string; readonly offline: boolean }
  | { readonly kind: 'plan'; readonly file: string; readonly detailedExitcode: boolean }
  | { readonly kind: 'push'; readonly file: string; readonly reason: string; readonly activate: boolean; readonly wait: WaitOptions | null }
  | {
      readonly kind: 'activate';
      readonly seq: number;
      readonly reason: string;
      readonly wait: WaitOptions | null;
      readonly force: boolean;
      readonly dryRun: boolean;
      readonly ifMatch: number | null;
      /** --staged / --immediate; null = the scope's default (the server decides). */
      readonly strategy: 'staged' | 'immediate' | null;
      /** --policy FILE: this rollout's policy (YAML or JSON), staged only. */
      readonly policyFile: string | null;
      /** --abort-live: abort the scope's live rollout instead of answering 409. */
      readonly abortLive: boolean;
    }
  | {
      readonly kind: 'rollback';
      readonly to: RollbackTo;
      readonly reason: string;
      readonly wait: WaitOptions | null;
      readonly force: boolean;
      readonly ifMatch: number | null;
      readonly abortLive: boolean;
    }
  | { readonly kind: 'status' }
  | { readonly kind: 'nodes' }
  | {
      readonly kind: 'diff';
      readonly from: number | 'active';
      readonly to: number | 'active';
      /** Sample-requests file: behavioural diff (which requests change upstream) instead of fields. */
      readonly requests: string | null;
      readonly detailedExitcode: boolean;
    }
  | { readonly kind: 'history'; readonly limit: number | null }
  | { readonly kind: 'audit-verify' }
  | {
      readonly kind: 'tokens-create';
      readonly name: string;
      readonly permissions: string[];
      readonly scopes: string[];
      readonly expiresAt: string | null;
      readonly file: string;
    }
  | { readonly kind: 'tokens-revoke'; readonly name: string; readonly file: string }
  | { readonly kind: 'tokens-list'; readonly file: string }
  | ({ readonly kind: 'pki' } & PkiCommand)
  | RolloutCommand
  | { readonly kind: 'policy-get' }
  | { readonly kind: 'policy-set'; readonly file: string; readonly reason: string; readonly ifMatch: number | null }
  | { readonly kind: 'unfreeze'; readonly reason: string };

export type RolloutAction = 'list' | 'get' | 'wait' | 'pause' | 'resume' | 'promote' | 'abort';

/** `rollout ACTION [ID]`: list (--limit), get ID, wait ID (--timeout), and the operator actions ID (--reason). */
export interface RolloutCommand {
  readonly kind: 'rollout';
  readonly action: RolloutAction;
  /** null for list. */
  readonly id: string | null;
  readonly limit: number | null;
  /** wait: how long to wait in all (default DEFAULT_ROLLOUT_WAIT_MS). */
  readonly timeoutMs: number;
  /** The operator actions: --reason (required). */
  readonly reason: string | null;
}

export interface Invocation {
  readonly command: Command;
  readonly globals: Globals;
}
