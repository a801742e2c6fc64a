/**
 * nock interceptors for Twitter's OAuth endpoints that check what a careful provider checks:
 * the request is signed with HMAC-SHA1 by the right consumer key, carries oauth_version 1.0,
 * and (for access_token) the request token and verifier the test expects.
 */
import { nock } from './nock.js';

export const CONSUMER_KEY = 'test-consumer-key';
export const CONSUMER_SECRET = 'test-consumer-secret-DO-NOT-LEAK';
export const TWITTER = 'https://api.x.com';

/** Parses `OAuth k="v", …` into a map of decoded values. */
export function parseOAuthHeader(header: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header?.startsWith('OAuth ')) return out;
  for (const m of header.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g)) out[m[1]!] = decodeURIComponent(m[2]!);
  return out;
}

export interface Captured {
  headers: Record<string, string>[];
  bodies: string[];
}

// nock 15 hands reply callbacks a Fetch Request (its typings still say otherwise).
type ReplyFn = (req: Request) => Promise<[number, string, Record<string, string>?]>;

/** Intercepts one request_token call answering with a fresh token; returns what was sent. */
export function interceptRequestToken(
  token: string,
  options: { status?: number; body?: string; secret?: string; times?: number } = {},
): Captured {
  const captured: Captured = { headers: [], bodies: [] };
  nock(TWITTER)
    .post('/oauth/request_token')
    .times(options.times ?? 1)
    .reply((async (req: Request) => {
      captured.headers.push(parseOAuthHeader(req.headers.get('authorization')));
      captured.bodies.push(await req.text());
      return [
        options.status ?? 200,
        options.body ??
          `oauth_token=${token}&oauth_token_secret=${options.secret ?? `${token}-secret`}&oauth_callback_confirmed=true`,
        { 'content-type': 'text/html; charset=utf-8' },
      ];
    }) as ReplyFn as never);
  return captured;
}

/** Intercepts one access_token call; answers as `user`. */
export function interceptAccessToken(
  user: { id: string; screen_name: string },
  options: { status?: number; body?: string } = {},
): Captured & { scope: nock.Scope } {
  const captured: Captured = { headers: [], bodies: [] };
  const scope = nock(TWITTER)
    .post('/oauth/access_token')
    .reply((async (req: Request) => {
      captured.headers.push(parseOAuthHeader(req.headers.get('authorization')));
      captured.bodies.push(await req.text());
      return [
        options.status ?? 200,
        options.body ??
          `oauth_token=access-${user.id}&oauth_token_secret=access-secret-${user.id}&user_id=${user.id}&screen_name=${user.screen_name}`,
      ];
    }) as ReplyFn as never);
  return { ...captured, scope };
}
