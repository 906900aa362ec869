/**
 * Parsed forms of stored generations, cached by digest (a digest's bytes never change, so an
 * entry never goes stale): the Config (diff, behaviour diff, schema version), and the
 * canonical document the field-level diff walks. An activation of a ~4 MiB generation
 * otherwise re-did, per call, JSON.parse + parseConfig of both sides, canonicalJson +
 * JSON.parse of both sides for the diff, and two more JSON.parse of the target for its schema
 * version (the range check, then the desired snapshot) — ~200 ms of the PUT on the bench
 * machine. `rememberStoredConfig` seeds the cache with the Config a create has just validated,
 * so activating a fresh generation parses nothing (its stored canonical document re-parses to
 * that same Config: canonical.ts).
 *
 * Bounded: the last CONFIG_CACHE_SIZE configs and DOCUMENT_CACHE_SIZE documents (a 4 MiB
 * generation's parsed forms are tens of MB of heap), oldest use evicted first.
 */
import { type Config, canonicalJson, parseConfig } from '@spooky/config';
import type { GenerationRecord } from './ports.ts';

const CONFIG_CACHE_SIZE = 8;
const DOCUMENT_CACHE_SIZE = 4;

const configs = new Map<string, Config>();
const documents = new Map<string, unknown>();

type Stored = Pick<GenerationRecord, 'digest' | 'payload'>;

/**
 * The stored canonical document as a Config. Re-parsed so defaults added since it was stored
 * are filled like in a fresh config; a document that no longer passes today's checks is used
 * as stored (diff and routing read it defensively) rather than failing a read-only call.
 */
export function storedConfig(record: Stored): Config {
  const cached = take(configs, record.digest);
  if (cached !== undefined) return cached as Config;
  const document: unknown = JSON.parse(record.payload);
  const parsed = parseConfig(document);
  const config = parsed.ok ? parsed.config : (document as Config);
  put(configs, record.digest, config, CONFIG_CACHE_SIZE);
  return config;
}

/** The canonical document of storedConfig(record) (what `diff` walks), parsed back from its canonical JSON. */
export function storedDocument(record: Stored): unknown {
  const cached = take(documents, record.digest);
  if (cached !== undefined) return cached;
  const document: unknown = JSON.parse(canonicalJson(storedConfig(record)));
  put(documents, record.digest, document, DOCUMENT_CACHE_SIZE);
  return document;
}

/** The config schema version of a stored generation (1 when absent: the schema's default). */
export function storedVersion(record: Stored): number {
  const version = (storedConfig(record) as { version?: unknown }).version;
  return typeof version === 'number' ? version : 1;
}

/** Seed the cache with the Config a generation with `digest` was just created from. */
export function rememberStoredConfig(digest: string, config: Config): void {
  put(configs, digest, config, CONFIG_CACHE_SIZE);
}

/** Moves a hit to the newest position (least recently used is evicted first). */
function take(cache: Map<string, unknown>, digest: string): unknown {
  const value = cache.get(digest);
  if (value !== undefined) {
    cache.delete(digest);
    cache.set(digest, value);
  }
  return value;
}

function put(cache: Map<string, unknown>, digest: string, value: unknown, size: number): void {
  cache.delete(digest);
  if (cache.size >= size) cache.delete(cache.keys().next().value as string);
  cache.set(digest, value);
}
