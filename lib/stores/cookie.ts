/**
 * A request-token store for apps without sessions (JWTs, `session: false`): this browser's pending
 * sign-ins travel in one short-lived, encrypted, HttpOnly cookie.
 *
 * The request token's secret signs the access-token exchange, so the cookie is sealed with
 * AES-256-GCM: the browser (and anything that can read its cookies) sees neither the secret nor
 * the tokens, and cannot change, forge or re-label the cookie without the server's key.
 *
 * Limits that a session store does not have, and that apps should know about:
 * - One-time use is enforced by clearing the cookie. A client that keeps the old cookie and
 *   replays the callback gets past this store; the strategy's memory of the callbacks it took
 *   (and, across instances, `claimCallback`) refuses it before Twitter is called. (A session
 *   store forgets the token on the server.)
 * - Two sign-ins started at the same instant in two tabs race: each response rewrites the whole
 *   cookie, so the later one wins and the other tab must start again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { TwitterSignInError } from '../errors.js';
import {
  DEFAULT_MAX_PENDING,
  DEFAULT_PENDING_TTL,
  findEntry,
  isEntry,
  positiveInteger,
  withEntry,
  withoutEntry,
  type Entry,
} from './entries.js';
import type { PendingSignIn, RequestTokenStore, StoreContext } from './store.js';

/** The cookie name used when none is given and the cookie is not `Secure` (plain http). */
export const DEFAULT_COOKIE_NAME = 'twitter_signin';
/**
 * The cookie name used when none is given and the cookie is `Secure` (HTTPS). Browsers accept a
 * `__Host-` cookie only from a secure origin, with `Secure`, `Path=/` and no `Domain`, so neither
 * a sibling subdomain nor a plain-http response can plant one (cookie tossing).
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2
 */
export const DEFAULT_HTTPS_COOKIE_NAME = `__Host-${DEFAULT_COOKIE_NAME}`;

/** Seconds the cookie outlives its newest entry, so expiry is reported as such. */
const EXPIRY_GRACE_SECONDS = 60;

/** The shortest secret accepted, in characters. */
export const MIN_SECRET_LENGTH = 32;
// Below these a secret is refused as plainly not random (see looksRandom).
const MIN_SECRET_CHARACTERS = 7;
const MIN_SECRET_TRIGRAMS = 20;

export interface CookieRequestTokenStoreOptions {
  /**
   * The key material: a random string of at least 32 characters, or a non-empty array of them to
   * rotate keys (newest first: cookies are written with the first and read with any). Required.
   * Keep it out of the code, like any server secret. A secret that is plainly not random is
   * refused: fewer than 7 different characters (`'0'.repeat(32)`), or fewer than 20 different
   * 3-character sequences (a short run repeated, `'password'.repeat(4)`). Random hex or base64
   * of 32+ characters passes (`crypto.randomBytes(32).toString('hex')`; 32 random hex characters
   * fall short by chance about once in 5 billion).
   */
  secret: string | readonly string[];
  /**
   * The cookie's name. Default `'__Host-twitter_signin'` when the cookie is `Secure` (HTTPS), so
   * no sibling subdomain or plain-http attacker can plant one, and `'twitter_signin'` otherwise
   * (local development on plain http, where anyone who can answer for the host can set it). One
   * store (or stores with the same secret) can serve several strategies (two Twitter apps) with
   * one cookie: each sees only the entries of its own scope (`sessionKey`). Stores with different
   * secrets need different names, or each clears the other's cookie as unreadable. A name given
   * with a `__Host-` or `__Secure-` prefix is always written `Secure` (and `Path=/`, no `Domain`),
   * and is refused with `secure: false`, or over plain http with `secure: 'auto'`: browsers drop it.
   */
  name?: string;
  /** Milliseconds a pending sign-in is accepted; the cookie lives a minute longer. Default 600000 (10 minutes). */
  ttl?: number;
  /** Pending sign-ins kept per browser (two tabs, a double click); the newest win. Default 5. */
  max?: number;
  /**
   * The cookie's `Secure` attribute. Default `'auto'`: set when the request came over HTTPS by
   * the strategy's `proxy` option (the socket's TLS, or `X-Forwarded-Proto: https` from a trusted
   * proxy: the rule that gives a relative callback URL its scheme). Called without the strategy's
   * context, it falls back to the socket and Express's `req.secure`. `true` always sets it (the
   * sign-in then fails over plain http), `false` never does.
   */
  secure?: 'auto' | boolean;
}

// An entry as in the session store, plus the strategy's scope: one cookie serves every
// strategy of the app, and each sees only its own entries.
type ScopedEntry = [...Entry, scope: string];

// Browsers drop a cookie whose name and value exceed about 4096 bytes (RFC 6265 §6.1 asks for
// at least that much). Writes stay within it, and reads refuse anything longer before decoding,
// so a hostile client cannot make us base64-decode and decrypt megabytes per request.
const MAX_COOKIE_BYTES = 4096;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// The shortest plaintext this store seals: one entry, `[["","",0,""]]` (an empty list is never
// written; the cookie is cleared instead). Anything shorter is junk, refused without decrypting.
const MIN_PLAINTEXT_BYTES = 14;
// HKDF's `info`: keys derived for this purpose are useless for anything else the app derives
// from the same secret (and vice versa).
const KEY_INFO = 'passport-twitter-signin/CookieRequestTokenStore/v1/aes-256-gcm';
// RFC 6265 §4.1.1: a cookie name is an HTTP token. Anything else could split the header.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// Prefixes a browser honours only on a Secure cookie (RFC 6265bis §4.1.3), case-insensitively
// in current browsers.
const SECURE_PREFIX = /^__(?:host|secure)-/i;

/**
 * Keeps pending sign-ins in an encrypted cookie, for apps with no session. Use it as the
 * strategy's `requestTokenStore`:
 *
 * ```ts
 * new TwitterSignInStrategy(
 *   { consumerKey, consumerSecret, callbackURL, requestTokenStore: new CookieRequestTokenStore({ secret }) },
 *   verify,
 * );
 * ```
 *
 * The cookie is `HttpOnly` (no script reads it), `SameSite=Lax` (the callback is a top-level
 * navigation from twitter.com, which `Strict` would strip), `Path=/`, lives `ttl`, and is `Secure`
 * per the `secure` option. It needs Express (or anything that sets `req.res`) to write the cookie.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6265 (HTTP State Management Mechanism)
 * @see https://www.rfc-editor.org/rfc/rfc5869 (HKDF)
 * @see https://csrc.nist.gov/pubs/sp/800/38/d/final (AES-GCM)
 */
export class CookieRequestTokenStore implements RequestTokenStore {
  /** The cookie's name as given; `undefined` for the default, which depends on the scheme. */
  readonly name: string | undefined;
  /** Milliseconds a pending sign-in is accepted. */
  readonly ttl: number;
  /** Pending sign-ins kept per browser. */
  readonly max: number;
  /** The `Secure` policy: `'auto'`, `true` or `false`. */
  readonly secure: 'auto' | boolean;
  // Newest first; never exposed, so the secret cannot end up in a log of the store.
  readonly #keys: Buffer[];
  // The pending sign-ins as this store last read or wrote them during a request. The strategy
  // reads, then destroys, within one request: this saves decrypting the cookie again, and the
  // Cookie header still holds the old value, so without it a second write would resurrect
  // entries the first one removed.
  readonly #state = new WeakMap<IncomingMessage, { entries: ScopedEntry[]; present: boolean }>();

  constructor(options: CookieRequestTokenStoreOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('CookieRequestTokenStore requires options with a secret');
    this.#keys = secretsOf(options.secret).map(deriveKey);
    const name = options.name;
    if (name !== undefined && (typeof name !== 'string' || !COOKIE_NAME.test(name))) {
      throw new TypeError('name must be a non-empty cookie name (letters, digits and !#$%&\'*+-.^_`|~)');
    }
    this.name = name;
    this.ttl = positiveInteger(options.ttl ?? DEFAULT_PENDING_TTL, 'ttl');
    this.max = positiveInteger(options.max ?? DEFAULT_MAX_PENDING, 'max');
    const secure = options.secure ?? 'auto';
    if (secure !== 'auto' && secure !== true && secure !== false) {
      throw new TypeError("secure must be 'auto', true or false");
    }
    if (secure === false && name !== undefined && SECURE_PREFIX.test(name)) {
      throw new TypeError(`secure: false cannot be used with a cookie named ${name}: browsers drop a __Host- or __Secure- cookie that is not Secure`);
    }
    this.secure = secure;
  }

  set(req: IncomingMessage, token: string, tokenSecret: string, scope: string, context?: StoreContext): void {
    const now = Date.now();
    const all = this.#read(req, context).entries;
    // Other strategies' entries ride along (their expired ones dropped); this scope keeps its newest few.
    const others = all.filter((e) => e[3] !== scope && e[2] > now);
    const mine = withEntry(own(all, scope), token, tokenSecret, this.ttl, this.max);
    this.#write(req, context, [...others, ...mine.map((e): ScopedEntry => [...e, scope])]);
  }

  get(req: IncomingMessage, token: string, scope: string, context?: StoreContext): PendingSignIn | undefined {
    return findEntry(own(this.#read(req, context).entries, scope), token);
  }

  destroy(req: IncomingMessage, token: string, scope: string, context?: StoreContext): void {
    const { entries, present } = this.#read(req, context);
    const mine = own(entries, scope);
    const left = withoutEntry(mine, token);
    // Nothing removed: leave a good cookie alone, but do clear one we could not read (junk from
    // an old key or another app), so it does not ride along on every request until it expires.
    if (left.length === mine.length && (entries.length > 0 || !present)) return;
    this.#write(req, context, [...entries.filter((e) => e[3] !== scope), ...left.map((e): ScopedEntry => [...e, scope])]);
  }

  hasPending(req: IncomingMessage, scope: string, context?: StoreContext): boolean {
    return own(this.#read(req, context).entries, scope).length > 0;
  }

  /**
   * Throws before a sign-in starts when the cookie cannot be written: no `req.res`, or a
   * `__Host-`/`__Secure-` name over plain http.
   */
  check(req: IncomingMessage, context?: StoreContext): void {
    responseOf(req);
    this.#cookieFor(req, context);
  }

  /**
   * The name and `Secure` of this request's cookie. The default name follows `Secure`: a
   * `__Host-` name over HTTPS, where browsers protect it, the plain one over http, where a
   * `__Host-` cookie would be dropped. Over HTTPS only the `__Host-` cookie is read, never the
   * plain one, which anyone who can set cookies for a sibling host could have planted.
   */
  #cookieFor(req: IncomingMessage, context: StoreContext | undefined): { name: string; secure: boolean } {
    const secure = this.#isSecure(req, context);
    if (this.name === undefined) return { name: secure ? DEFAULT_HTTPS_COOKIE_NAME : DEFAULT_COOKIE_NAME, secure };
    if (!secure && SECURE_PREFIX.test(this.name)) {
      throw new TwitterSignInError(
        'ERR_STORE',
        `CookieRequestTokenStore's cookie ${this.name} needs HTTPS: browsers drop a __Host- or __Secure- cookie ` +
          'that is not Secure, and this request came over plain http. Behind a proxy that terminates TLS, set the ' +
          "strategy's proxy: true (or Express's trust proxy); for local development over http, use a name without the prefix.",
      );
    }
    return { name: this.name, secure };
  }

  /** This browser's pending sign-ins, and whether it sent a cookie of ours at all. */
  #read(req: IncomingMessage, context: StoreContext | undefined): { entries: ScopedEntry[]; present: boolean } {
    const known = this.#state.get(req);
    if (known) return { entries: [...known.entries], present: known.present };
    const { name } = this.#cookieFor(req, context);
    const values = cookieValues(req.headers.cookie, name);
    let state = { entries: [] as ScopedEntry[], present: values.length > 0 };
    // Several cookies can share our name (a parent domain's, an older path's), and a planted one
    // is sent first if its path is longer: every candidate is tried, and the entries of all that
    // open are kept, so no number of junk cookies, nor a planted cookie that does open (one this
    // app sealed for someone else), can hide ours. The Cookie header's own size bounds the work (node refuses
    // headers over 16 KiB by default: at most about 280 candidates, a few milliseconds of
    // decryption per key), and junk that is not base64url of a sealed cookie's length, or repeats
    // a value already tried, costs no decryption.
    const tried = new Set<string>();
    for (const value of values) {
      if (tried.has(value)) continue;
      tried.add(value);
      const entries = this.#open(value, name);
      if (entries) {
        const known = new Set(state.entries.map((e) => `${e[3]}\u0000${e[0]}`));
        state = { entries: [...state.entries, ...entries.filter((e) => !known.has(`${e[3]}\u0000${e[0]}`))], present: true };
      }
    }
    this.#state.set(req, state);
    return { entries: [...state.entries], present: state.present };
  }

  #write(req: IncomingMessage, context: StoreContext | undefined, entries: ScopedEntry[]): void {
    const res = responseOf(req);
    const { name, secure } = this.#cookieFor(req, context);
    if (res.headersSent) {
      throw new TwitterSignInError(
        'ERR_STORE',
        'CookieRequestTokenStore cannot set its cookie: the response headers were already sent. ' +
          'Run passport.authenticate before anything writes the response.',
      );
    }
    let value = '';
    let kept = entries;
    // Keep the newest entries that fit in one cookie: a browser silently drops a larger one, and
    // every pending sign-in with it.
    while (kept.length > 0) {
      value = this.#seal(kept, name);
      if (name.length + 1 + value.length <= MAX_COOKIE_BYTES) break;
      kept = kept.slice(1);
    }
    if (entries.length > 0 && kept.length === 0) {
      throw new TwitterSignInError(
        'ERR_STORE',
        `CookieRequestTokenStore cannot keep this pending sign-in: it does not fit in a ${MAX_COOKIE_BYTES}-byte cookie.`,
      );
    }
    // Path=/ and no Domain always: a __Host- cookie needs both, and the callback path is the app's.
    const attributes = [`${name}=${kept.length > 0 ? value : ''}`, 'Path=/'];
    // A grace minute past the newest entry's expiry: the browser still sends the cookie, so a slow
    // user hears that the sign-in expired rather than that the session cookie was lost.
    if (kept.length > 0) attributes.push(`Max-Age=${Math.ceil(this.ttl / 1000) + EXPIRY_GRACE_SECONDS}`);
    else attributes.push('Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT');
    attributes.push('HttpOnly', 'SameSite=Lax');
    if (secure) attributes.push('Secure');
    replaceSetCookie(res, name, attributes.join('; '));
    this.#state.set(req, { entries: kept, present: true });
  }

  /** AES-256-GCM under the newest key: base64url(IV ‖ ciphertext ‖ tag). */
  #seal(entries: ScopedEntry[], name: string): string {
    // A fresh random IV per write: GCM with a repeated IV under one key leaks the XOR of the
    // plaintexts and lets the tag be forged. 96 random bits are safe for far more writes than
    // a key will ever see.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0]!, iv);
    // The cookie name is authenticated too, so a cookie cannot be replayed under another name
    // (another Twitter app with the same secret, or the plain name of a __Host- cookie).
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(entries), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The entries of a cookie value, or `undefined` when it is not one this store sealed under `name`. */
  #open(value: string, name: string): ScopedEntry[] | undefined {
    if (value.length > MAX_COOKIE_BYTES || !BASE64URL.test(value)) return undefined;
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + MIN_PLAINTEXT_BYTES) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    for (const key of this.#keys) {
      let plaintext: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(name, 'utf8'));
        decipher.setAuthTag(tag);
        // final() throws unless the tag matches: a flipped bit, a truncation, another key or
        // another cookie name all end here, as "no pending sign-ins".
        plaintext = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        continue;
      }
      return scopedEntriesOf(plaintext);
    }
    return undefined;
  }

  #isSecure(req: IncomingMessage, context: StoreContext | undefined): boolean {
    if (this.secure !== 'auto') return this.secure;
    // The strategy's answer, by its proxy option: the same as the callback URL's scheme.
    if (context) return context.secure === true;
    if ((req.socket as TLSSocket | undefined)?.encrypted === true) return true;
    // Called without the strategy's context: any client can send X-Forwarded-Proto, so believe
    // it only as Express's req.secure does, behind a proxy the app's `trust proxy` trusts.
    const secure = (req as IncomingMessage & { secure?: unknown }).secure;
    return secure === true;
  }
}

function secretsOf(secret: unknown): string[] {
  const list = Array.isArray(secret) ? (secret as unknown[]) : [secret];
  // A short secret is guessable offline from any captured cookie; 32 characters leaves room for
  // 128+ bits of randomness in any common encoding (hex, base64).
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)) {
    throw new TypeError(
      `secret is required: a random string of at least ${MIN_SECRET_LENGTH} characters, ` +
        'or a non-empty array of them (newest first) to rotate keys',
    );
  }
  list.forEach((s, i) => {
    if (!looksRandom(s as string)) {
      // The secret itself is never part of the message.
      throw new TypeError(
        `${Array.isArray(secret) ? `secret[${i}]` : 'secret'} is long enough but not random: it has fewer than ` +
          `${MIN_SECRET_CHARACTERS} different characters, or repeats short runs (fewer than ${MIN_SECRET_TRIGRAMS} ` +
          'different 3-character sequences), so the cookie key could be guessed. Use a random string, e.g. ' +
          `node -e "console.log(require('node:crypto').randomBytes(32).toString('hex'))"`,
      );
    }
  });
  return list as string[];
}

// A screen for secrets that are plainly not random, not a measure of randomness: 32 zeros, 'ab'
// repeated, a word repeated, one random half twice. The key is derived with HKDF (no slow hash),
// so such a secret would be found at once from any captured cookie. The thresholds spare random
// secrets: a random 32-character hex string has fewer than 7 different characters about
// once in 5 * 10^9 draws (base64 far less often), and all but one or two of its 30
// 3-character windows differ (none of 200,000 draws had fewer than 26).
function looksRandom(secret: string): boolean {
  if (new Set(secret).size < MIN_SECRET_CHARACTERS) return false;
  const trigrams = new Set<string>();
  for (let i = 0; i + 3 <= secret.length && trigrams.size < MIN_SECRET_TRIGRAMS; i++) trigrams.add(secret.slice(i, i + 3));
  return trigrams.size >= MIN_SECRET_TRIGRAMS;
}

// HKDF rather than scrypt: the secret is required to be long and random, so slowing down
// guesses buys nothing, and this runs once per key at construction.
function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEY_INFO, 32));
}

// The plaintext was sealed by this store, but perhaps by an older version: only well-formed
// entries count.
function scopedEntriesOf(plaintext: string): ScopedEntry[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(plaintext);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value.filter((e): e is ScopedEntry => isEntry(e) && typeof (e as unknown[])[3] === 'string');
}

/** This scope's entries, without the scope label. */
function own(entries: readonly ScopedEntry[], scope: string): Entry[] {
  return entries.filter((e) => e[3] === scope).map((e): Entry => [e[0], e[1], e[2]]);
}

/** The values of the cookies called `name` in a Cookie header, in the order the browser sent them. */
function cookieValues(header: string | undefined, name: string): string[] {
  if (typeof header !== 'string') return [];
  const values: string[] = [];
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const pair = header.slice(start, end);
    start = end + 1;
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    // RFC 6265 §4.1.1 allows a value in double quotes.
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    values.push(value);
  }
  return values;
}

function responseOf(req: IncomingMessage): ServerResponse {
  const res = (req as IncomingMessage & { res?: ServerResponse }).res;
  if (!res || typeof res.setHeader !== 'function') {
    throw new TwitterSignInError(
      'ERR_STORE',
      'CookieRequestTokenStore needs req.res to set its cookie, and the request has none. ' +
        'Express sets it; with another framework, set req.res = res before passport.authenticate, ' +
        'or use SessionRequestTokenStore.',
    );
  }
  return res;
}

// Appends our cookie to whatever Set-Cookie lines the app or express-session already queued,
// replacing only an earlier line of ours for this name, so a response says one thing about it.
function replaceSetCookie(res: ServerResponse, name: string, line: string): void {
  const current = res.getHeader('set-cookie');
  const lines = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  const others = lines.filter((l) => !l.startsWith(`${name}=`));
  res.setHeader('Set-Cookie', [...others, line]);
}
