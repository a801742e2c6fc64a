/**
 * OAuth 1.0a HMAC-SHA1 signatures as a server checks them: parse what the client sent, rebuild
 * the signature base string, compare signatures in constant time.
 *
 * Written from RFC 5849 rather than with the `oauth` package, so the fake provider judges a
 * client against the specification and not against another client's reading of it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.4
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** One decoded name/value pair. Order and repeats matter to the base string, so no Map. */
export type Param = [name: string, value: string];

/** The request cannot be parsed as OAuth at all (RFC 5849 §3.2 answers this with 400). */
export class MalformedRequestError extends Error {
  override name = 'MalformedRequestError';
}

/**
 * RFC 3986 percent-encoding of every character except the unreserved ones.
 * `encodeURIComponent` leaves `!'()*` alone, which RFC 5849 does not allow.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.6
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // `%zz`, a lone `%`, or bytes that are not UTF-8: the base string would be ambiguous.
    throw new MalformedRequestError('Malformed percent-encoding.');
  }
}

/**
 * Parses a query string or an `application/x-www-form-urlencoded` body the way RFC 5849 says
 * to when collecting parameters: `+` is a space, a name without `=` has an empty value, empty
 * pieces are skipped. Unlike `URLSearchParams`, bad percent-encoding is an error, not a guess.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.4.1.3.1
 */
export function parseFormEncoded(text: string): Param[] {
  const params: Param[] = [];
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq === -1 ? piece : piece.slice(0, eq);
    const value = eq === -1 ? '' : piece.slice(eq + 1);
    params.push([percentDecode(name.replace(/\+/g, ' ')), percentDecode(value.replace(/\+/g, ' '))]);
  }
  return params;
}

/**
 * Parses an `Authorization: OAuth …` header into its parameters, `realm` included.
 * Returns `undefined` when the header uses another scheme. Values must be quoted and are
 * percent-encoded (no `+` for space here); anything else is malformed.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.5.1
 */
export function parseAuthorizationHeader(header: string): Param[] | undefined {
  const scheme = /^\s*OAuth(?:\s+|$)/i.exec(header);
  if (!scheme) return undefined;
  const rest = header.slice(scheme[0].length).trimEnd();
  const item = /\s*([^\s=",]+)\s*=\s*"([^"]*)"\s*(?:,|$)/y;
  const params: Param[] = [];
  while (item.lastIndex < rest.length) {
    const match = item.exec(rest);
    if (!match) throw new MalformedRequestError('Malformed OAuth Authorization header.');
    params.push([percentDecode(match[1]!), percentDecode(match[2]!)]);
  }
  return params;
}

/**
 * The base string URI: lower-case scheme and host, the port only when it is not the scheme's
 * default, and the path exactly as requested (no query, no fragment).
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.4.1.2
 */
export function baseStringURI(scheme: 'http' | 'https', host: string, path: string): string {
  const authority = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i.exec(host);
  if (!authority) throw new MalformedRequestError('Malformed Host header.');
  const port = authority[2];
  const defaultPort = scheme === 'http' ? '80' : '443';
  const hostname = authority[1]!.toLowerCase();
  return `${scheme}://${port === undefined || port === defaultPort ? hostname : `${hostname}:${port}`}${path}`;
}

/**
 * The signature base string: method, base string URI and the normalized parameters (each
 * name and value encoded, sorted by name then value, joined with `=` and `&`), each encoded
 * once more and joined with `&`. `params` must already exclude `realm` (header only) and
 * `oauth_signature`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.4.1
 */
export function signatureBaseString(method: string, baseURI: string, params: readonly Param[]): string {
  const normalized = params
    .map(([name, value]): Param => [percentEncode(name), percentEncode(value)])
    // Encoded strings are ASCII, so comparing UTF-16 code units is the byte order §3.4.1.3.2 asks for.
    .sort(([an, av], [bn, bv]) => (an === bn ? compare(av, bv) : compare(an, bn)))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  return [method.toUpperCase(), baseURI, normalized].map(percentEncode).join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * HMAC-SHA1 over the base string, keyed with the encoded consumer secret and token secret
 * joined by `&` (the token secret is empty before a token exists), in base64.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.4.2
 */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

/**
 * Whether `signature` is the HMAC-SHA1 signature of `baseString`, compared in constant time so
 * response timing does not reveal how many leading characters of a forged signature were right.
 */
export function verifyHmacSha1(
  baseString: string,
  consumerSecret: string,
  tokenSecret: string,
  signature: string,
): boolean {
  return safeEqual(signature, hmacSha1Signature(baseString, consumerSecret, tokenSecret));
}

/**
 * Compares a secret the client sent with the one expected, in time that does not depend on
 * where they differ. Only a length difference short-cuts, and lengths here are not secret.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
