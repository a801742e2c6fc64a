/**
 * Resolves a relative `callbackURL` against the request the sign-in started from, and tells the
 * request-token store whether that request came over HTTPS, by the same rule.
 *
 * A relative callback trusts the request's `Host` (or a trusted proxy's `X-Forwarded-Host`):
 * Twitter sends the user back, with their verifier, to whatever host that yields. So the header
 * must be exactly a host and a port, and, when the app lists its hosts, one of them.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { TwitterSignInError } from './errors.js';
import type { StoreContext } from './stores/store.js';

type ExpressRequest = IncomingMessage & {
  app?: { get?(setting: string): unknown };
};

// RFC 9110 §7.2 (Host = uri-host [ ":" port ]) with RFC 3986 §3.2.2's hosts: an IP literal in
// brackets (its address checked by the URL parser), or a reg-name, which also covers a dotted
// IPv4 address. The reg-name is held to unreserved characters: no DNS name uses the sub-delims,
// and percent-encoding would be decoded by the URL parser, so what was checked would not be
// what Twitter is given. Everything else is refused: '@' (userinfo: `legit@evil` is host evil),
// '/', '?', '#' and '\' (they end the authority: `evil/x?` is host evil), spaces, commas. The
// port is digits only (RFC 3986 §3.2.3), at least one.
const HOST_AND_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{1,5})?$/;

/** Whether `value` is exactly `host[:port]`: a host name, an IPv4 address or a bracketed IP literal, and digits for the port. */
export function isHostAndPort(value: string): boolean {
  if (!HOST_AND_PORT.test(value)) return false;
  try {
    // The grammar lets through an IP literal that is not an address, or a port over 65535.
    new URL(`http://${value}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute callback URL for this request. An absolute `callbackURL` is returned as is. A
 * relative one is resolved against the request's own origin; `X-Forwarded-Proto` and
 * `X-Forwarded-Host` are believed only when the proxy is trusted, because any client can send
 * them and Twitter would then redirect the user with their verifier to a host of the client's
 * choosing (if that host were registered). The host used must be exactly `host[:port]` and, when
 * `allowedHosts` is given, one of them (compared as URLs compare hosts: case, default port);
 * otherwise this throws `ERR_CALLBACK_HOST` (status 400), before anything is sent to Twitter.
 *
 * `trustProxy` undefined defers to Express's `trust proxy` setting, through the compiled
 * function Express 4 and 5 both keep as `trust proxy fn` (hop counts, subnets, 'loopback'), asked
 * about the connecting address as Express's own `req.protocol` does. Express's `req.host` is not
 * used: Express 4's drops the port.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.2 (Host)
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.2.2 (host)
 */
export function resolveCallbackURL(
  callbackURL: string,
  req: IncomingMessage,
  trustProxy: boolean | undefined,
  allowedHosts?: readonly string[],
): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(callbackURL)) return callbackURL;
  const { protocol, host, header } = requestOrigin(req, trustProxy);
  if (host === undefined || !isHostAndPort(host)) {
    // The value is the client's and is left out: it may be anything a header can hold.
    throw new TwitterSignInError(
      'ERR_CALLBACK_HOST',
      `The request's ${header} header is not a plain host[:port], so the relative callbackURL cannot be resolved ` +
        "against it: Twitter would send the user's verifier wherever it points. Set an absolute callbackURL " +
        '(the safe default), or list the hosts the app serves in callbackHosts.',
    );
  }
  const url = new URL(callbackURL, `${protocol}://${host}`);
  if (allowedHosts !== undefined && !allowedHosts.some((allowed) => new URL(`${protocol}://${allowed}`).host === url.host)) {
    throw new TwitterSignInError(
      'ERR_CALLBACK_HOST',
      `The relative callbackURL resolves to host ${url.host} (from the request's ${header} header), which is not in ` +
        'callbackHosts. Add it to callbackHosts if the app serves it, or set an absolute callbackURL.',
    );
  }
  return url.toString();
}

/**
 * Where the browser sent this request: its scheme and the host it named, from `Host`, or from
 * `X-Forwarded-Proto`/`X-Forwarded-Host` when the proxy is trusted. `host` is as sent: unchecked.
 */
export function requestOrigin(
  req: IncomingMessage,
  trustProxy: boolean | undefined,
): { protocol: 'http' | 'https'; host: string | undefined; header: 'Host' | 'X-Forwarded-Host' } {
  const trusted = trusts(req, trustProxy);
  const forwarded = trusted ? first(req.headers['x-forwarded-host']) : undefined;
  return forwarded !== undefined
    ? { protocol: protocolOf(req, trusted), host: forwarded, header: 'X-Forwarded-Host' }
    : { protocol: protocolOf(req, trusted), host: req.headers.host, header: 'Host' };
}

/**
 * What the strategy tells its request-token store about this request: whether it came over
 * HTTPS, by the same rule (and the same `proxy` option) that gives a relative callback URL its
 * scheme, so the cookie store's `Secure` and the callback's `https:` never disagree. An
 * absolute `https:` callback URL says so too: the browser comes back over HTTPS, so the sign-in
 * is an HTTPS one even where a TLS-terminating proxy is not trusted and the request looks like
 * plain http (which would otherwise lose the cookie store's `__Host-` protection unnoticed).
 */
export function storeContextOf(req: IncomingMessage, trustProxy: boolean | undefined, callbackURL?: string): StoreContext {
  const https = protocolOf(req, trusts(req, trustProxy)) === 'https' || /^https:/i.test(callbackURL ?? '');
  return { secure: https };
}

// The socket's TLS, unless a trusted proxy says which scheme the browser used.
function protocolOf(req: IncomingMessage, trusted: boolean): 'http' | 'https' {
  const proto = trusted ? first(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  if (proto === 'https' || proto === 'http') return proto;
  return (req.socket as TLSSocket | undefined)?.encrypted === true ? 'https' : 'http';
}

function trusts(req: IncomingMessage, trustProxy: boolean | undefined): boolean {
  if (trustProxy !== undefined) return trustProxy;
  const trust = (req as ExpressRequest).app?.get?.('trust proxy fn');
  return typeof trust === 'function' && trust(req.socket?.remoteAddress ?? '', 0) === true;
}

// The leftmost value, as Express reads these headers. Behind proxies that append rather than
// overwrite, it is what the client sent; a trusted proxy should overwrite them.
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const head = raw?.split(',')[0]?.trim();
  return head || undefined;
}
