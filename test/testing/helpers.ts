/**
 * Shared helpers for the fake provider's tests. Requests are signed with the `oauth` package,
 * a second implementation, so the fake's own RFC 5849 code is checked against another one
 * rather than against itself.
 */
import { OAuth } from 'oauth';
import { startFakeTwitter, type FakeTwitter, type FakeTwitterOptions } from '../../lib/testing/index.js';
import { startFakeTwitterWithClock } from '../../lib/testing/server.js';

export const CONSUMER_KEY = 'test-consumer-key';
export const CONSUMER_SECRET = 'test-consumer-secret';
export const CALLBACK = 'http://127.0.0.1:3000/auth/twitter/callback';

export type Pair = [string, string];

/**
 * A clock that stands still until a test moves it, for checking expiry exactly: however slowly
 * a loaded machine runs the requests in between, no time passes for the fake. It starts at the
 * current time (on a whole second, so `oauth_timestamp` offsets from it are exact), which keeps
 * requests signed on the real clock in bounds.
 */
export class ManualClock {
  #ms = Math.floor(Date.now() / 1000) * 1000;

  /** For the code under test: the clock's time in milliseconds. */
  readonly now = (): number => this.#ms;

  advance(ms: number): void {
    this.#ms += ms;
  }
}

/**
 * Starts a fake with the test consumer; the caller closes it. With `clock`, the fake's token
 * lifetimes and timestamp checks run on it instead of the real clock.
 */
export function startFake(options: Partial<FakeTwitterOptions> = {}, clock?: ManualClock): Promise<FakeTwitter> {
  const full = { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, ...options };
  return clock === undefined ? startFakeTwitter(full) : startFakeTwitterWithClock(full, clock.now);
}

/**
 * node-oauth's signer with its clock and nonce open to tests, for stale and replayed requests.
 * Subclassing is how node-oauth is meant to be customised (its helpers are "protected").
 */
export class Signer extends OAuth {
  timestamp: number | undefined;
  nonce: string | undefined;

  constructor(
    fake: FakeTwitter,
    opts: { consumerKey?: string; consumerSecret?: string; version?: string; signatureMethod?: string } = {},
  ) {
    super(
      fake.requestTokenURL,
      fake.accessTokenURL,
      opts.consumerKey ?? CONSUMER_KEY,
      opts.consumerSecret ?? CONSUMER_SECRET,
      opts.version ?? '1.0',
      null,
      opts.signatureMethod ?? 'HMAC-SHA1',
    );
  }

  protected override _getTimestamp(): number | string {
    return this.timestamp ?? super._getTimestamp();
  }

  protected override _getNonce(nonceSize: number): string {
    return this.nonce ?? super._getNonce(nonceSize);
  }

  /** The protocol parameters of a signed request, `oauth_signature` included. */
  protocolParams(method: string, url: string, params: Record<string, string>, token = '', tokenSecret = ''): Pair[] {
    const signed = this._prepareParameters(token, tokenSecret, method, url, { ...params }) as Pair[];
    return signed.filter(([name]) => name.startsWith('oauth_'));
  }

  /**
   * Like `protocolParams`, signed without the optional parameter `omit` (node-oauth always sends
   * oauth_version). For requests whose only parameters are protocol parameters.
   */
  protocolParamsWithout(omit: string, method: string, url: string, params: Record<string, string>): Pair[] {
    const kept = this.protocolParams(method, url, params).filter(([n]) => n !== omit && n !== 'oauth_signature');
    // @types/oauth declares pairs, but node-oauth's _normaliseRequestParams takes a name → value object.
    const normalized = this._normaliseRequestParams(Object.fromEntries(kept) as unknown as string[][]);
    const signature = this._getSignature(method, url, normalized, '');
    return [...kept, ['oauth_signature', signature]];
  }

  authorizationHeader(params: Pair[]): string {
    return this._buildAuthorizationHeaders(params);
  }
}

export interface SignedCall {
  url: string;
  method?: 'GET' | 'POST';
  /** Protocol parameters to sign besides the usual ones, e.g. oauth_callback, oauth_verifier. */
  oauth?: Record<string, string>;
  /** Form body parameters to sign and send. */
  body?: Record<string, string>;
  token?: string;
  tokenSecret?: string;
  /** Where the protocol parameters travel (RFC 5849 §3.5). Default: the Authorization header. */
  placement?: 'header' | 'query' | 'body';
  /** Replaces protocol parameters after signing, to forge or break a request. */
  override?: Record<string, string>;
  /** A body to send instead of the signed one. */
  sentBody?: Record<string, string>;
}

/** Sends a request signed by `signer` over real HTTP. */
export function signedFetch(signer: Signer, call: SignedCall): Promise<Response> {
  const method = call.method ?? 'POST';
  const params = signer
    .protocolParams(method, call.url, { ...call.oauth, ...call.body }, call.token, call.tokenSecret)
    .map(([name, value]): Pair => [name, call.override?.[name] ?? value]);
  const headers: Record<string, string> = {};
  let url = call.url;
  const body = new URLSearchParams(call.sentBody ?? call.body);
  switch (call.placement ?? 'header') {
    case 'header':
      // Protocol parameters given in `body` travel there only (RFC 5849 §3.2: never twice).
      headers.authorization = signer.authorizationHeader(params.filter(([name]) => !(name in (call.body ?? {}))));
      break;
    case 'query':
      url += `${url.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`;
      break;
    case 'body':
      for (const [name, value] of params) body.set(name, value);
      break;
  }
  if (method === 'GET') return fetch(url, { headers });
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return fetch(url, { method, headers, body: body.toString() });
}

/** Parses a form-encoded token response. */
export async function formResponse(res: Response): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(await res.text()));
}

/** Gets a request token for `callback`, failing the test on anything but 200. */
export async function getRequestToken(
  fake: FakeTwitter,
  callback = CALLBACK,
  body: Record<string, string> = {},
): Promise<{ token: string; secret: string }> {
  const res = await signedFetch(new Signer(fake), { url: fake.requestTokenURL, oauth: { oauth_callback: callback }, body });
  if (res.status !== 200) throw new Error(`request_token answered ${res.status}: ${await res.text()}`);
  const { oauth_token: token, oauth_token_secret: secret } = await formResponse(res);
  return { token: token!, secret: secret! };
}

/** The query of a redirect's Location header. */
export function redirectQuery(res: Response): URLSearchParams {
  const location = res.headers.get('location');
  if (location === null) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(location).searchParams;
}

/** Exchanges an approved request token; returns the raw response. */
export function exchange(
  fake: FakeTwitter,
  requestToken: { token: string; secret: string },
  verifier: string,
  signer = new Signer(fake),
): Promise<Response> {
  return signedFetch(signer, {
    url: fake.accessTokenURL,
    token: requestToken.token,
    tokenSecret: requestToken.secret,
    oauth: { oauth_verifier: verifier },
  });
}

/**
 * A browser, as far as the fake's pages need one: keeps cookies, does not follow redirects
 * (tests look at where they point).
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  get(url: string): Promise<Response> {
    return this.#send(url, { method: 'GET' });
  }

  submit(url: string, form: Record<string, string>): Promise<Response> {
    return this.#send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  async #send(url: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const headers = new Headers(init.headers);
    if (cookie !== '') headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }
}

/** Error body in Twitter's JSON shape, as `{code, message}` of the first entry. */
export async function twitterError(res: Response): Promise<{ code?: number; message: string }> {
  const body = (await res.json()) as { errors: Array<{ code?: number; message: string }> };
  return body.errors[0]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
