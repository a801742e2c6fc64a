import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in time independent of where they differ, so a callback cannot probe a
 * pending token byte by byte. Both sides are hashed first: `timingSafeEqual` needs equal
 * lengths, and comparing lengths directly would leak them.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
