/** Every schema migration, in order. Append only: never edit a migration that has shipped. */
import { migration0001 } from './0001-initial.ts';
import { migration0002 } from './0002-lifecycle.ts';
import { migration0003 } from './0003-rollouts.ts';
import { migration0004 } from './0004-health-windows.ts';
import { migration0005 } from './0005-node-candidate.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005];
