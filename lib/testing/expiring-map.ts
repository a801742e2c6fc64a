/**
 * A map whose entries expire a fixed time after they were set and which never holds more than
 * `maxEntries`, so a fake left running under a load test keeps bounded memory.
 *
 * Expiry is lazy: every access first drops expired entries from the front. That is cheap
 * because one fixed time-to-live keeps insertion order equal to expiry order (`set` re-inserts
 * a key at the back), so the sweep stops at the first live entry.
 */
export class ExpiringMap<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #ttl: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  /**
   * @param ttl Milliseconds an entry lives; `Infinity` for entries that only the size cap evicts.
   * @param maxEntries When full, setting a new key evicts the oldest entry.
   * @param now The clock, in milliseconds. Default: `Date.now`. Tests pass one they move by
   *   hand, so expiry does not depend on how fast a loaded machine runs them. It must not go
   *   backwards, or insertion order would stop being expiry order.
   */
  constructor(ttl: number, maxEntries: number, now: () => number = Date.now) {
    this.#ttl = ttl;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    this.#sweep();
    return this.#entries.get(key)?.value;
  }

  has(key: K): boolean {
    this.#sweep();
    return this.#entries.has(key);
  }

  set(key: K, value: V): void {
    this.#sweep();
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttl });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) return;
      this.#entries.delete(key);
    }
  }
}
