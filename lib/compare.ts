import { timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in time independent of where they differ, so a callback cannot probe a
 * pending token byte by byte. Strings of different lengths are unequal at once: the length of
 * a request token is not secret (Twitter's all have the same shape), its bytes are.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
