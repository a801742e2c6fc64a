/**
 * What the built-in stores share: their defaults, the shape of a stored entry, and the
 * validation of their numeric options.
 */
import { timingSafeEqualString } from '../compare.js';
import type { PendingSignIn } from './store.js';

/** How long a pending sign-in is accepted by default: 10 minutes. */
export const DEFAULT_PENDING_TTL = 10 * 60 * 1000;
/** How many pending sign-ins one browser keeps by default; the newest win. */
export const DEFAULT_MAX_PENDING = 5;

/**
 * `[token, tokenSecret, expiresAt]`: a tuple keeps sessions and cookies small (a session is
 * serialised on every request that touches it, and stored in Redis by many apps).
 */
export type Entry = [token: string, tokenSecret: string, expiresAt: number];

/**
 * The well-formed entries of a stored value. What is stored came from outside this code (an
 * older version, another library using the same key, a decrypted cookie): only entries of the
 * right shape count.
 */
export function entriesOf(value: unknown): Entry[] {
  return Array.isArray(value) ? value.filter(isEntry) : [];
}

/** Whether a stored value has the shape of an entry (extra trailing fields allowed). */
export function isEntry(e: unknown): e is Entry {
  return Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string' && typeof e[2] === 'number';
}

/** Adds an entry: drops expired ones (abandoned starts must not grow storage), keeps the newest `max`. */
export function withEntry(entries: Entry[], token: string, tokenSecret: string, ttl: number, max: number): Entry[] {
  const now = Date.now();
  const kept = entries.filter((e) => e[2] > now);
  kept.push([token, tokenSecret, now + ttl]);
  return kept.slice(-max);
}

/** The entry for `token`, looking at every entry so timing does not reveal which matched. */
export function findEntry(entries: readonly Entry[], token: string): PendingSignIn | undefined {
  let found: Entry | undefined;
  for (const entry of entries) {
    if (timingSafeEqualString(entry[0], token) && !found) found = entry;
  }
  return found && { token: found[0], tokenSecret: found[1], expiresAt: found[2] };
}

/** The entries without `token`. */
export function withoutEntry(entries: readonly Entry[], token: string): Entry[] {
  return entries.filter((e) => !timingSafeEqualString(e[0], token));
}

/** A positive whole number option, or a TypeError naming it. */
export function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive whole number`);
  return value;
}
