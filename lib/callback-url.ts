/**
 * Resolves a relative `callbackURL` against the request the sign-in started from.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The absolute callback URL for this request. An absolute `callbackURL` is returned as is. A
 * relative one is resolved against the request's own origin; `X-Forwarded-Proto` and
 * `X-Forwarded-Host` are believed only when the app trusts its proxy, because any client can
 * send them and Twitter would then redirect the user with their verifier to a host of the
 * client's choosing (if that host were registered).
 */
export function resolveCallbackURL(callbackURL: string, req: IncomingMessage, trustProxy: boolean | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(callbackURL)) return callbackURL;
  // Without an explicit choice, defer to Express: its req.protocol and req.host apply the app's
  // full `trust proxy` setting (hop counts, subnets), not just on or off.
  const express = req as IncomingMessage & { protocol?: unknown; host?: unknown };
  if (trustProxy === undefined) {
    if (typeof express.protocol === 'string' && typeof express.host === 'string' && express.host) {
      return new URL(callbackURL, `${express.protocol}://${express.host}`).toString();
    }
    trustProxy = false;
  }
  const encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true;
  let protocol = encrypted ? 'https' : 'http';
  let host = req.headers.host ?? 'localhost';
  if (trustProxy) {
    const proto = first(req.headers['x-forwarded-proto']);
    if (proto === 'https' || proto === 'http') protocol = proto;
    host = first(req.headers['x-forwarded-host']) ?? host;
  }
  return new URL(callbackURL, `${protocol}://${host}`).toString();
}

// Proxies append: "a, b" means the first proxy saw "a".
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const head = raw?.split(',')[0]?.trim();
  return head || undefined;
}
