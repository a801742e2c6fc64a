/**
 * Argument checks shared by the clients and the strategies: each throws a `TypeError` naming
 * the argument, once, at the boundary.
 */
import type { Dispatcher } from 'undici';
import { MAX_TIMEOUT } from './http.js';

/** Default time allowed for each call to Twitter, in milliseconds. */
export const DEFAULT_TIMEOUT = 10_000;

export function requireString(value: unknown, name: string, hint = ''): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} is required and must be a non-empty string${hint}`);
  }
}

/** An absolute http(s) URL, returned as given. */
export function absoluteURL(value: unknown, name: string): URL {
  requireString(value, name);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${name} must be an http(s) URL, got "${value}"`);
  }
  return url;
}

/** `timeout`, checked: a positive number of milliseconds that node's timers can hold. */
export function checkTimeout(value: unknown): number {
  const timeout = value ?? DEFAULT_TIMEOUT;
  // Node's timers take at most 2^31 - 1 ms (about 24.8 days); more would fire at once.
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT) {
    throw new TypeError(`timeout must be a positive number of milliseconds, at most ${MAX_TIMEOUT}`);
  }
  return timeout;
}

/**
 * `dispatcher`, checked; and the `agent` option of earlier versions refused with its replacement,
 * so an app that upgrades is not silently sent around its proxy or certificate authority.
 */
export function checkDispatcher(options: { dispatcher?: unknown; agent?: unknown }): Dispatcher | undefined {
  if (options.agent !== undefined) {
    throw new TypeError(
      'agent is not supported: calls go through undici. Pass an undici dispatcher as `dispatcher` instead, ' +
        "e.g. dispatcher: new ProxyAgent('http://proxy:8080') or new Agent({ connect: { ca } }) from 'undici'.",
    );
  }
  const dispatcher = options.dispatcher;
  if (dispatcher === undefined) return undefined;
  if (!dispatcher || typeof (dispatcher as Dispatcher).dispatch !== 'function') {
    throw new TypeError("dispatcher must be an undici Dispatcher (an Agent, ProxyAgent or MockAgent from 'undici')");
  }
  return dispatcher as Dispatcher;
}
