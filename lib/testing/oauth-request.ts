/**
 * A signed OAuth 1.0a request as the fake provider sees it: where its parameters came from,
 * and whether its consumer key, timestamp, nonce, token and signature hold up.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.2
 */
import type { IncomingMessage } from 'node:http';
import { ExpiringMap } from './expiring-map.js';
import { isFormBody } from './http.js';
import {
  MalformedRequestError,
  baseStringURI,
  parseAuthorizationHeader,
  parseFormEncoded,
  signatureBaseString,
  verifyHmacSha1,
  type Param,
} from './signature.js';
import {
  BAD_AUTHENTICATION_DATA,
  COULD_NOT_AUTHENTICATE,
  INVALID_OR_EXPIRED_TOKEN,
  TIMESTAMP_OUT_OF_BOUNDS,
  type TwitterError,
} from './twitter-errors.js';

/** How far `oauth_timestamp` may be from the fake's clock, as on Twitter. */
const MAX_CLOCK_SKEW_SECONDS = 300;
/** Upper bound on remembered nonces, so a flood of requests cannot grow memory without end. */
const MAX_REMEMBERED_NONCES = 100_000;

export interface OAuthRequest {
  method: string;
  /** The base string URI (RFC 5849 §3.4.1.2), built from the Host header and the request path. */
  baseURI: string;
  /** Query parameters, decoded. */
  query: Param[];
  /** Body parameters, decoded; empty unless the body is `application/x-www-form-urlencoded`. */
  body: Param[];
  /** Protocol parameters (`oauth_*`) from the header, query or body; each name at most once. */
  oauth: ReadonlyMap<string, string>;
  /**
   * What the signature covers (§3.4.1.3.1): header parameters except `realm`, query and body,
   * never `oauth_signature`.
   */
  signed: Param[];
}

/**
 * Collects a request's parameters from its Authorization header, query and form body.
 * Throws {@link MalformedRequestError} when any of them cannot be parsed or a protocol
 * parameter is sent twice (RFC 5849 §3.2 asks for 400 in both cases).
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.4.1.3.1
 * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.5
 */
export function parseOAuthRequest(
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  rawBody: Buffer,
  scheme: 'http' | 'https' = 'http',
): OAuthRequest {
  const { host, authorization } = req.headers;
  if (host === undefined) throw new MalformedRequestError('Missing Host header.');
  const baseURI = baseStringURI(scheme, host, path);
  const header = authorization === undefined ? [] : (parseAuthorizationHeader(authorization) ?? []);
  const query = parseFormEncoded(rawQuery);
  // §3.4.1.3.1: the body is signed only when it is single-part form data.
  const body = isFormBody(req) ? parseFormEncoded(rawBody.toString('utf8')) : [];

  const oauth = new Map<string, string>();
  const fromHeader = header.filter(([name]) => name !== 'realm');
  for (const [name, value] of [...fromHeader, ...query, ...body]) {
    if (!name.startsWith('oauth_')) continue;
    if (oauth.has(name)) throw new MalformedRequestError(`Duplicated protocol parameter ${name}.`);
    oauth.set(name, value);
  }
  const signed = [...fromHeader, ...query, ...body].filter(([name]) => name !== 'oauth_signature');
  return { method: req.method ?? 'GET', baseURI, query, body, oauth, signed };
}

/** The first value of a non-protocol parameter, from the query or else the form body. */
export function requestParam(request: OAuthRequest, name: string): string | undefined {
  return (request.query.find(([n]) => n === name) ?? request.body.find(([n]) => n === name))?.[1];
}

/** Checks signed requests for one consumer (the fake serves a single app). */
export class RequestVerifier {
  readonly #consumerKey: string;
  readonly #consumerSecret: string;
  /**
   * Nonces of requests that passed. A replay carries the original timestamp, which passes the
   * skew check for at most 2 × the skew after the original arrived, so that is how long a
   * nonce is kept. One map is "per consumer key" here because there is one consumer.
   */
  readonly #nonces: ExpiringMap<string, true>;
  readonly #now: () => number;

  /** @param now The clock `oauth_timestamp` is checked against, in milliseconds. Default: `Date.now`. */
  constructor(consumerKey: string, consumerSecret: string, now: () => number = Date.now) {
    this.#consumerKey = consumerKey;
    this.#consumerSecret = consumerSecret;
    this.#now = now;
    this.#nonces = new ExpiringMap(2 * MAX_CLOCK_SKEW_SECONDS * 1000, MAX_REMEMBERED_NONCES, now);
  }

  /**
   * Returns the error Twitter would answer, or `undefined` when the request is authentic.
   * Pass `tokenSecret` on endpoints that need a token: it returns the secret of a live token,
   * or `undefined` for an unknown, expired or used one.
   */
  verify(request: OAuthRequest, tokenSecret?: (token: string) => string | undefined): TwitterError | undefined {
    const oauth = request.oauth;
    const consumerKey = oauth.get('oauth_consumer_key');
    const method = oauth.get('oauth_signature_method');
    if (!consumerKey || !method) return BAD_AUTHENTICATION_DATA;
    if (consumerKey !== this.#consumerKey) return COULD_NOT_AUTHENTICATE;
    // Twitter signs with HMAC-SHA1 only; PLAINTEXT would send the secrets themselves.
    if (method !== 'HMAC-SHA1') return COULD_NOT_AUTHENTICATE;
    // §3.1: oauth_version is optional, but when present it MUST be "1.0" (not "1.0a", not "1.0A").
    const version = oauth.get('oauth_version');
    if (version !== undefined && version !== '1.0') return COULD_NOT_AUTHENTICATE;

    const signature = oauth.get('oauth_signature');
    const timestamp = oauth.get('oauth_timestamp');
    const nonce = oauth.get('oauth_nonce');
    if (!signature || !timestamp || !nonce) return BAD_AUTHENTICATION_DATA;
    if (!/^\d{1,15}$/.test(timestamp) || Math.abs(this.#now() / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
      return TIMESTAMP_OUT_OF_BOUNDS;
    }

    let secret = '';
    if (tokenSecret) {
      const token = oauth.get('oauth_token');
      if (!token) return BAD_AUTHENTICATION_DATA;
      const found = tokenSecret(token);
      if (found === undefined) return INVALID_OR_EXPIRED_TOKEN;
      secret = found;
    }
    const baseString = signatureBaseString(request.method, request.baseURI, request.signed);
    if (!verifyHmacSha1(baseString, this.#consumerSecret, secret, signature)) return COULD_NOT_AUTHENTICATE;

    // §3.3: a nonce is single-use, so a captured request cannot be replayed. Recorded only once
    // the signature holds, so forged requests cannot use up a client's nonces.
    if (this.#nonces.has(nonce)) return COULD_NOT_AUTHENTICATE;
    this.#nonces.set(nonce, true);
    return undefined;
  }
}
