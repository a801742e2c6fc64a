/**
 * Resolves a relative `callbackURL` against the request the sign-in started from.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

type ExpressRequest = IncomingMessage & {
  app?: { get?(setting: string): unknown };
};

/**
 * The absolute callback URL for this request. An absolute `callbackURL` is returned as is. A
 * relative one is resolved against the request's own origin; `X-Forwarded-Proto` and
 * `X-Forwarded-Host` are believed only when the proxy is trusted, because any client can send
 * them and Twitter would then redirect the user with their verifier to a host of the client's
 * choosing (if that host were registered).
 *
 * `trustProxy` undefined defers to Express's `trust proxy` setting, through the compiled
 * function Express 4 and 5 both keep as `trust proxy fn` (hop counts, subnets, 'loopback'), asked
 * about the connecting address as Express's own `req.protocol` does. Express's `req.host` is not
 * used: Express 4's drops the port.
 */
export function resolveCallbackURL(callbackURL: string, req: IncomingMessage, trustProxy: boolean | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(callbackURL)) return callbackURL;
  const trusted = trustProxy ?? expressTrusts(req as ExpressRequest);
  const encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true;
  let protocol = encrypted ? 'https' : 'http';
  let host = req.headers.host ?? 'localhost';
  if (trusted) {
    const proto = first(req.headers['x-forwarded-proto'])?.toLowerCase();
    if (proto === 'https' || proto === 'http') protocol = proto;
    host = first(req.headers['x-forwarded-host']) ?? host;
  }
  return new URL(callbackURL, `${protocol}://${host}`).toString();
}

function expressTrusts(req: ExpressRequest): boolean {
  const trust = req.app?.get?.('trust proxy fn');
  return typeof trust === 'function' && trust(req.socket?.remoteAddress ?? '', 0) === true;
}

// The leftmost value, as Express reads these headers. Behind proxies that append rather than
// overwrite, it is what the client sent; a trusted proxy should overwrite them.
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const head = raw?.split(',')[0]?.trim();
  return head || undefined;
}
