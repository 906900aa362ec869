/** Every schema migration, in order. Append only: never edit a migration that has shipped. */
import { migration0001 } from './0001-initial.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [migration0001];
