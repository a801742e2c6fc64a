import http from 'node:http';
import { inspect } from 'node:util';
import { expect } from 'chai';
import { OAuth } from 'oauth';
import { TwitterOAuthClient } from '../lib/index.js';
import { provider } from './helpers/provider.js';
import { rejection } from './helpers/rejection.js';
import { parseOAuthHeader } from './helpers/twitter-nock.js';
import {
  baseStringURI,
  parseAuthorizationHeader,
  parseFormEncoded,
  signatureBaseString,
  verifyHmacSha1,
} from '../lib/testing/signature.js';

// Twitter's "Log in with Twitter" page publishes this test consumer secret and the signatures of
// its example requests, so anyone can check a signer against it.
const DOCS = {
  consumerKey: 'cChZNFj6T5R0TigYB9yd1w',
  consumerSecret: 'L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg',
};

type ClientExtra = Partial<ConstructorParameters<typeof TwitterOAuthClient>[0]>;

function clientWith(url: string, extra: ClientExtra = {}) {
  return new TwitterOAuthClient({
    consumerKey: 'ck',
    consumerSecret: 'consumer-secret-value',
    requestTokenURL: `${url}/oauth/request_token`,
    accessTokenURL: `${url}/oauth/access_token`,
    userAuthorizationURL: `${url}/oauth/authenticate`,
    ...extra,
  });
}

const OK_REQUEST_TOKEN = 'oauth_token=rt&oauth_token_secret=rts&oauth_callback_confirmed=true';

describe('TwitterOAuthClient', () => {
  describe('constructor', () => {
    it('throws a TypeError naming consumerKey or consumerSecret when missing', () => {
      expect(() => new TwitterOAuthClient({ consumerSecret: 's' } as never)).to.throw(TypeError, 'consumerKey');
      expect(() => new TwitterOAuthClient({ consumerKey: 'k' } as never)).to.throw(TypeError, 'consumerSecret');
    });

    it("refuses a relative endpoint URL, and a timeout that is not positive or beyond node's timers", () => {
      expect(() => new TwitterOAuthClient({ ...DOCS, requestTokenURL: '/oauth/request_token' })).to.throw(TypeError, 'requestTokenURL');
      expect(() => new TwitterOAuthClient({ ...DOCS, timeout: 0 })).to.throw(TypeError, 'timeout');
      // setTimeout fires at once beyond 2^31 - 1 ms: every call would time out immediately.
      expect(() => new TwitterOAuthClient({ ...DOCS, timeout: 2 ** 31 })).to.throw(TypeError, 'at most 2147483647');
      expect(new TwitterOAuthClient({ ...DOCS, timeout: 2 ** 31 - 1 }).timeout).to.equal(2 ** 31 - 1);
    });

    it('takes an explicit authorizeURL', () => {
      const client = new TwitterOAuthClient({ ...DOCS, authorizeURL: 'https://api.x.com/oauth/authorize' });
      expect(client.authorizationURL('t', { authorize: true })).to.equal('https://api.x.com/oauth/authorize?oauth_token=t');
    });

    it("defaults to X's endpoints on api.x.com and derives oauth/authorize from oauth/authenticate", () => {
      const client = new TwitterOAuthClient(DOCS);
      expect(client.requestTokenURL).to.equal('https://api.x.com/oauth/request_token');
      expect(client.accessTokenURL).to.equal('https://api.x.com/oauth/access_token');
      expect(client.userAuthorizationURL).to.equal('https://api.x.com/oauth/authenticate');
      expect(client.authorizeURL).to.equal('https://api.x.com/oauth/authorize');
      expect(client.timeout).to.equal(10_000);
    });
  });

  describe('authorizationHeader', () => {
    it("reproduces the signature of Twitter's documented request_token example", () => {
      const header = new TwitterOAuthClient(DOCS).authorizationHeader({
        method: 'POST',
        url: 'https://api.twitter.com/oauth/request_token',
        params: { oauth_callback: 'http://localhost/sign-in-with-twitter/' },
        nonce: 'ea9ec8429b68d6b77cd5600adbbb0456',
        timestamp: 1318467427,
      });
      const fields = parseOAuthHeader(header);
      expect(fields.oauth_signature).to.equal('F1Li3tvehgcraF8DMJ7OyxO4w9Y=');
      expect(fields.oauth_version).to.equal('1.0');
      expect(fields.oauth_callback).to.equal('http://localhost/sign-in-with-twitter/');
    });

    it("reproduces the signature of Twitter's documented access_token example", () => {
      const header = new TwitterOAuthClient(DOCS).authorizationHeader({
        method: 'POST',
        url: 'https://api.twitter.com/oauth/access_token',
        token: 'NPcudxy0yU5T3tBzho7iCotZ3cnetKwcTIRlX0iwRl0',
        tokenSecret: 'veNRnAWe6inFuo8o2u8SLLZLjolYDmDP7SzL0YfYI',
        params: { oauth_verifier: 'uw7NjWHT6OJ1MpJOXsHfNxoAhPKpgI8BlYDhxEjIBY' },
        nonce: 'a9900fe68e2573b27a37f10fbad6a755',
        timestamp: 1318467427,
      });
      expect(parseOAuthHeader(header).oauth_signature).to.equal('39cipBtIOHEEnybAR4sATQTpl2I=');
    });

    it('draws a fresh 128-bit hex nonce from crypto (not Math.random) and the current time when none is given', () => {
      const client = new TwitterOAuthClient(DOCS);
      const random = Math.random;
      Math.random = () => 0.5;
      try {
        const x = parseOAuthHeader(client.authorizationHeader({ method: 'GET', url: 'https://api.twitter.com/x' }));
        const y = parseOAuthHeader(client.authorizationHeader({ method: 'GET', url: 'https://api.twitter.com/x' }));
        expect(x.oauth_nonce).not.to.equal(y.oauth_nonce);
      } finally {
        Math.random = random;
      }
      const a = parseOAuthHeader(client.authorizationHeader({ method: 'GET', url: 'https://api.twitter.com/x' }));
      const b = parseOAuthHeader(client.authorizationHeader({ method: 'GET', url: 'https://api.twitter.com/x' }));
      expect(a.oauth_nonce).to.match(/^[0-9a-f]{32}$/);
      expect(a.oauth_nonce).not.to.equal(b.oauth_nonce);
      expect(Math.abs(Number(a.oauth_timestamp) - Date.now() / 1000)).to.be.below(5);
    });

    it("signs exactly as node-oauth's own encoder does, reserved characters and all", () => {
      // node-oauth unmodified, with its nonce and clock fixed, as the reference.
      const reference = new OAuth('', '', DOCS.consumerKey, DOCS.consumerSecret, '1.0', null as never, 'HMAC-SHA1') as unknown as {
        _getNonce: () => string;
        _getTimestamp: () => number;
        _prepareParameters(t: string, s: string, m: string, u: string, p: Record<string, string>): [string, string][];
        _buildAuthorizationHeaders(p: [string, string][]): string;
      };
      reference._getNonce = () => 'n0nce';
      reference._getTimestamp = () => 1318467427;
      const params = { status: "Hello Ladies + Gentlemen, a signed OAuth request! (it's *fun*) ~ é 日本", oauth_callback: 'http://x/?a=b&c=d e' };
      const url = 'https://api.twitter.com:443/1.1/statuses/update.json?include_entities=true&x=(1)';
      const expected = reference._buildAuthorizationHeaders(reference._prepareParameters('tok', 'sec!', 'POST', url, { ...params }));
      const actual = new TwitterOAuthClient(DOCS).authorizationHeader({
        method: 'POST', url, params, token: 'tok', tokenSecret: 'sec!', nonce: 'n0nce', timestamp: 1318467427,
      });
      expect(actual).to.equal(expected);
    });

    it('puts only oauth_* parameters in the header, but signs the others too', () => {
      const client = new TwitterOAuthClient(DOCS);
      const base = { method: 'POST', url: 'https://api.twitter.com/x', nonce: 'n', timestamp: 1 };
      const withParam = client.authorizationHeader({ ...base, params: { status: 'hello' } });
      const without = client.authorizationHeader(base);
      expect(withParam).not.to.include('status');
      expect(parseOAuthHeader(withParam).oauth_signature).not.to.equal(parseOAuthHeader(without).oauth_signature);
    });
  });

  describe('authorizationURL', () => {
    it('builds the authenticate URL with force_login and screen_name, and the authorize URL on request', () => {
      const client = new TwitterOAuthClient(DOCS);
      expect(client.authorizationURL('t&1', { forceLogin: true, screenName: 'a b' })).to.equal(
        'https://api.x.com/oauth/authenticate?oauth_token=t%261&force_login=true&screen_name=a%20b',
      );
      expect(client.authorizationURL('t', { authorize: true })).to.equal('https://api.x.com/oauth/authorize?oauth_token=t');
    });
  });

  describe('talking to the provider', () => {
      let p: Awaited<ReturnType<typeof provider>> | undefined;
      let client: TwitterOAuthClient | undefined;
      const clientFor = (url: string, extra: ClientExtra = {}) => clientWith(url, extra);
      afterEach(async () => {
        await p?.close();
        p = undefined;
        client = undefined;
      });

      it('obtains a request token with a signed POST carrying oauth_callback and x_auth_access_type', async () => {
        p = await provider((_req, res) => res.end(OK_REQUEST_TOKEN));
        client = clientFor(p.url);
        const token = await client.getRequestToken({ callbackURL: 'oob', accessType: 'read' });
        expect(token).to.deep.equal({ token: 'rt', tokenSecret: 'rts', callbackConfirmed: true });
        const seen = p.seen[0]!;
        expect(seen.method).to.equal('POST');
        expect(seen.body).to.equal('x_auth_access_type=read');
        expect(seen.headers['content-type']).to.equal('application/x-www-form-urlencoded');
        expect(seen.headers['accept-encoding']).to.equal('identity');
        expect(parseOAuthHeader(seen.headers.authorization).oauth_callback).to.equal('oob');
      });

      it('exchanges token and verifier for an access token with user_id and screen_name', async () => {
        p = await provider((_req, res) => res.end('oauth_token=at&oauth_token_secret=ats&user_id=12&screen_name=jack&x=1'));
        client = clientFor(p.url);
        const access = await client.getAccessToken({ token: 'rt', tokenSecret: 'rts', verifier: 'v' });
        expect(access).to.deep.equal({
          token: 'at',
          tokenSecret: 'ats',
          userId: '12',
          screenName: 'jack',
          // Neither the token nor its secret: apps log params, as passport-twitter's have neither.
          params: { user_id: '12', screen_name: 'jack', x: '1' },
        });
        const header = parseOAuthHeader(p.seen[0]!.headers.authorization);
        expect(header.oauth_token).to.equal('rt');
        expect(header.oauth_verifier).to.equal('v');
      });

      it('signs what it sends, checked by an independent RFC 5849 verifier, for unusual endpoint URLs', async () => {
        const verdicts: boolean[] = [];
        p = await provider((req, res, seen) => {
          const [path, query = ''] = seen.url.split('?');
          const header = parseAuthorizationHeader(seen.headers.authorization!)!.filter(([n]) => n !== 'realm');
          const signature = header.find(([n]) => n === 'oauth_signature')![1];
          const params = [...header.filter(([n]) => n !== 'oauth_signature'), ...parseFormEncoded(query), ...parseFormEncoded(seen.body)];
          const base = signatureBaseString(seen.method, baseStringURI('http', seen.headers.host!, path!), params);
          verdicts.push(verifyHmacSha1(base, 'consumer-secret-value', '', signature));
          res.end(OK_REQUEST_TOKEN);
          void req;
        });
        const port = new URL(p.url).port;
        for (const url of [
          `${p.url}/oauth/request_token?x=(1)&y=a+b&flag`,
          `${p.url}/x/../oauth/request_token`,
          `${p.url}/oauth/it's|^here`,
          `http://LOCALHOST:${port}/oauth/request_token`,
        ]) {
          client = clientFor(p.url, { requestTokenURL: url });
          await client.getRequestToken({ callbackURL: 'oob', accessType: 'read' });
        }
        expect(verdicts).to.deep.equal([true, true, true, true]);
      });

      it('refuses an endpoint URL whose query repeats a name or carries oauth_* parameters', () => {
        expect(() => clientFor('http://127.0.0.1:1', { requestTokenURL: 'http://127.0.0.1:1/rt?a=1&a=2' })).to.throw(TypeError, 'requestTokenURL');
        expect(() => clientFor('http://127.0.0.1:1', { accessTokenURL: 'http://127.0.0.1:1/at?oauth_token=x' })).to.throw(TypeError, 'accessTokenURL');
      });

      it('reuses kept-alive connections for consecutive calls, and never sends Connection: close', async () => {
        p = await provider((_req, res) => res.end(OK_REQUEST_TOKEN));
        client = clientFor(p.url);
        for (let i = 0; i < 20; i++) await client.getRequestToken({ callbackURL: 'oob' });
        // undici's pool may open a second connection while it releases the first; no more.
        expect(p.connections()).to.be.within(1, 2);
        expect(p.seen.every((s) => s.headers.connection !== 'close')).to.equal(true);
        expect(p.seen[0]!.headers['user-agent']).to.equal('passport-twitter-signin');
      });

      it('resends once, freshly signed, when a kept-alive connection turns out closed', async () => {
        let resetDone = false;
        const sockets = new Set<object>();
        p = await provider((req, res) => {
          // The first request that arrives on an already used connection: close it unanswered,
          // as a server does when its idle timeout races the client's reuse.
          if (sockets.has(req.socket) && !resetDone) {
            resetDone = true;
            req.socket.destroy();
            return;
          }
          sockets.add(req.socket);
          res.end(OK_REQUEST_TOKEN);
        });
        client = clientFor(p.url);
        for (let i = 0; i < 5; i++) expect(await client.getRequestToken({ callbackURL: 'oob' })).to.include({ token: 'rt' });
        expect(resetDone).to.equal(true);
        expect(p.seen).to.have.length(6);
        const nonces = p.seen.map((s) => parseOAuthHeader(s.headers.authorization).oauth_nonce);
        expect(new Set(nonces).size, 'the resent request is freshly signed').to.equal(nonces.length);
      });

      it('resends a connection closed before any answer only once, then reports ERR_TWITTER_NETWORK', async () => {
        p = await provider((req) => req.socket.destroy());
        client = clientFor(p.url);
        expect((await rejection(client.getRequestToken({ callbackURL: 'oob' }))).code).to.equal('ERR_TWITTER_NETWORK');
        expect(p.seen).to.have.length(2);
      });

      it('does not follow a redirect: ERR_TWITTER_REDIRECT, and the Location is never called', async () => {
        p = await provider((req, res) => {
          if (req.url === '/elsewhere') return res.end(OK_REQUEST_TOKEN);
          res.writeHead(302, { location: '/elsewhere' }).end();
        });
        client = clientFor(p.url);
        const err = await rejection(client.getRequestToken({ callbackURL: 'oob' }));
        expect(err.code).to.equal('ERR_TWITTER_REDIRECT');
        expect(err.providerStatus).to.equal(302);
        expect(p.seen.map((s) => s.url)).to.deep.equal(['/oauth/request_token']);
      });

      it('gives up with ERR_TWITTER_TIMEOUT when the provider does not answer in time', async () => {
        p = await provider(() => {});
        client = clientFor(p.url, { timeout: 150 });
        const started = Date.now();
        const err = await rejection(client.getRequestToken({ callbackURL: 'oob' }));
        expect(err.code).to.equal('ERR_TWITTER_TIMEOUT');
        expect(err.endpoint).to.equal('request_token');
        expect(Date.now() - started).to.be.below(2000);
      });

      it('times out a provider that answers headers but drips the body too slowly', async () => {
        p = await provider((_req, res) => {
          res.writeHead(200);
          res.write('oauth_token=');
        });
        client = clientFor(p.url, { timeout: 150 });
        expect((await rejection(client.getRequestToken({ callbackURL: 'oob' }))).code).to.equal('ERR_TWITTER_TIMEOUT');
      });

      it('reports a reset connection as ERR_TWITTER_NETWORK', async () => {
        p = await provider((req) => req.socket.destroy());
        client = clientFor(p.url);
        const err = await rejection(client.getAccessToken({ token: 't', tokenSecret: 'token-secret-value', verifier: 'verifier-value' }));
        expect(err.code).to.equal('ERR_TWITTER_NETWORK');
        expect(err.endpoint).to.equal('access_token');
      });

      it('reports a refused connection as ERR_TWITTER_NETWORK', async () => {
        p = await provider(() => {});
        const url = p.url;
        await p.close();
        p = undefined;
        client = clientFor(url);
        expect((await rejection(client.getRequestToken({ callbackURL: 'oob' }))).code).to.equal('ERR_TWITTER_NETWORK');
      });

      it('refuses an answer larger than 1 MiB', async () => {
        p = await provider((_req, res) => res.end('x'.repeat(2 * 1024 * 1024)));
        client = clientFor(p.url);
        expect((await rejection(client.getRequestToken({ callbackURL: 'oob' }))).code).to.equal('ERR_TWITTER_RESPONSE');
      });

      it('refuses a compressed answer it did not ask for as ERR_TWITTER_RESPONSE', async () => {
        p = await provider((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.from([0x1f, 0x8b, 8, 0])));
        client = clientFor(p.url);
        const err = await rejection(client.getRequestToken({ callbackURL: 'oob' }));
        expect(err.code).to.equal('ERR_TWITTER_RESPONSE');
        expect(err.message).to.include('compressed');
        expect(err.providerStatus).to.equal(200);
      });

      it('reads a body whose Content-Encoding names no compression (identity, or a misconfigured utf-8)', async () => {
        p = await provider((_req, res) =>
          res.writeHead(200, { 'content-encoding': p!.seen.length === 1 ? 'identity' : 'utf-8' }).end(OK_REQUEST_TOKEN),
        );
        client = clientFor(p.url);
        expect(await client.getRequestToken({ callbackURL: 'oob' })).to.include({ token: 'rt' });
        expect(await client.getRequestToken({ callbackURL: 'oob' })).to.include({ token: 'rt' });
      });

      it("surfaces Twitter's own message and code, with the body kept but not enumerable", async () => {
        const body = '{"errors":[{"code":135,"message":"Timestamp out of bounds."}]}';
        p = await provider((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end(body));
        client = clientFor(p.url);
        const err = await rejection(client.getRequestToken({ callbackURL: 'oob' }));
        expect(err.code).to.equal('ERR_TWITTER_HTTP');
        expect(err.providerStatus).to.equal(401);
        expect(err.providerCode).to.equal(135);
        expect(err.providerMessage).to.equal('Timestamp out of bounds.');
        expect(err.message).to.include('clock');
        expect(err.body).to.equal(body);
        expect(Object.keys(err)).not.to.include('body');
      });

      it('is ERR_TWITTER_RATE_LIMITED on a 429, with the reset time from x-rate-limit-reset, and status 503 for the app', async () => {
        p = await provider((_req, res) =>
          res
            .writeHead(429, { 'content-type': 'application/json', 'x-rate-limit-reset': '1893456000' })
            .end('{"errors":[{"code":88,"message":"Rate limit exceeded"}]}'),
        );
        client = clientFor(p.url);
        const err = await rejection(client.getRequestToken({ callbackURL: 'oob' }));
        expect(err).to.include({ code: 'ERR_TWITTER_RATE_LIMITED', status: 503, providerStatus: 429, providerCode: 88 });
        expect(err.rateLimitReset?.toISOString()).to.equal('2030-01-01T00:00:00.000Z');
        expect(err.message).to.include('resets at 2030-01-01T00:00:00.000Z');
      });

      it('says the PIN may be mistyped when access_token refuses a seven-digit verifier', async () => {
        p = await provider((_req, res) => res.writeHead(401).end('{"errors":[{"code":89,"message":"Invalid or expired token."}]}'));
        client = clientFor(p.url);
        const pin = await rejection(client.getAccessToken({ token: 't', tokenSecret: 's', verifier: '1234567' }));
        expect(pin.message).to.include('The PIN may be mistyped');
        const verifier = await rejection(client.getAccessToken({ token: 't', tokenSecret: 's', verifier: 'a-long-callback-verifier' }));
        expect(verifier.message).to.include('already used or has expired; start the sign-in again');
      });

      it('never puts a secret, the verifier or the signature in an error, its toString, JSON, cause or body', async () => {
        // Answers that echo the request back, as a proxy's or a mock's error page may.
        const echo = (status: number) => (req: http.IncomingMessage, res: http.ServerResponse) =>
          res.writeHead(status).end(JSON.stringify({ message: 'no match', headers: req.headers }));
        const failures: [string, (req: http.IncomingMessage, res: http.ServerResponse) => void][] = [
          ['401', (_req, res) => res.writeHead(401).end('{"errors":[{"code":32,"message":"Could not authenticate you."}]}')],
          ['500 HTML', (_req, res) => res.writeHead(500).end('<html>oops</html>')],
          ['501 echoing the request', echo(501)],
          ['401 echoing the Authorization header', (req, res) => res.writeHead(401).end(String(req.headers.authorization))],
          ['200 without the tokens', (_req, res) => res.end('oauth_token_secret=only')],
          ['reset', (req) => req.socket.destroy()],
          ['302', (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()],
          ['no answer', () => {}],
          ['not HTTP', (req) => req.socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n')],
          ['too large', (_req, res) => res.end('x'.repeat(2 * 1024 * 1024))],
        ];
        for (const [what, fail] of failures) {
          p = await provider(fail);
          client = clientFor(p.url, { timeout: 200 });
          const err = await rejection(
            client.getAccessToken({ token: 't', tokenSecret: 'token-secret-value', verifier: 'verifier-value' }),
          );
          const signature = parseOAuthHeader(p.seen[0]!.headers.authorization).oauth_signature!;
          const text = [
            err.message, String(err), JSON.stringify(err), inspect(err, { depth: 8, showHidden: true }),
            String(err.cause ?? ''), JSON.stringify(err.cause ?? null), err.stack ?? '', err.body ?? '',
          ].join('\n');
          for (const secret of ['consumer-secret-value', 'token-secret-value', 'verifier-value', signature, encodeURIComponent(signature)]) {
            expect(text, `${what} (${err.code}) leaks ${secret}`).not.to.include(secret);
          }
          await p.close();
        }
        p = undefined;
      });

      it("blanks the verifier, token, nonce and signature in an echo of the request in X's error shape, however it is encoded", async () => {
        const html = (t: string) => [...t].map((c) => `&#${c.charCodeAt(0)};`).join('');
        const json = (t: string) => t.replace(/[=&"]/g, (c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
        // X's error body, its message holding the echo.
        const xError = (message: string) => `{"errors":[{"code":32,"message":${JSON.stringify(message)}}]}`;
        const echoes: [string, (authorization: string, fields: Record<string, string>) => string][] = [
          ['the header percent-encoded', (a) => xError(encodeURIComponent(a))],
          ['the header HTML-numeric', (a) => xError(html(a))],
          ['the header in JSON with \\u003d', (a) => `{"errors":[{"code":32,"message":"${json(a)}"}]}`],
          ['key => value lines', (_a, f) => xError(Object.entries(f).map(([k, v]) => `${k} => ${v}`).join('\n'))],
          ['bare values', (_a, f) => xError(Object.values(f).join(' '))],
        ];
        for (const [what, echo] of echoes) {
          p = await provider((req, res) => res.writeHead(400).end(echo(req.headers.authorization!, parseOAuthHeader(req.headers.authorization))));
          client = clientFor(p.url);
          const err = await rejection(client.getAccessToken({ token: 'request-token-value', tokenSecret: 's', verifier: 'verifier-value-123' }));
          const sent = parseOAuthHeader(p.seen[0]!.headers.authorization);
          for (const name of ['oauth_verifier', 'oauth_token', 'oauth_signature', 'oauth_nonce']) {
            const value = sent[name]!;
            for (const form of [value, encodeURIComponent(value)]) {
              expect(`${err.body}\n${err.message}`, `${what} leaks ${name}`).not.to.include(form);
            }
          }
          expect(err.body, what).to.include('[redacted]');
          await p.close();
        }
        p = undefined;
      });

      it('says the first attempt may have reached Twitter when the resend of an exchange is refused', async () => {
        let calls = 0;
        p = await provider((req, res) => {
          // The first copy is read whole, then its connection dies unanswered; the resend is refused.
          if (++calls === 1) return void req.socket.destroy();
          res.writeHead(401).end('{"errors":[{"code":89,"message":"Invalid or expired token."}]}');
        });
        client = clientFor(p.url);
        const err = await rejection(client.getAccessToken({ token: 't', tokenSecret: 's', verifier: 'a-long-callback-verifier' }));
        expect(calls).to.equal(2);
        expect(err.message).to.include('The first attempt lost its connection before an answer; X may have received it.');
      });

      it("keeps no body that is not one of X's error shapes: an echo in an encoding no redaction knows (base64) stays out", async () => {
        p = await provider((req, res) => res.writeHead(400).end(Buffer.from(String(req.headers.authorization)).toString('base64')));
        client = clientFor(p.url);
        const err = await rejection(client.getAccessToken({ token: 'request-token-value', tokenSecret: 's', verifier: 'verifier-value-123' }));
        expect(err.providerStatus).to.equal(400);
        expect(err.body).to.equal(undefined);
        expect('body' in err).to.equal(false);
      });

      it('refuses a getJSON URL that repeats a query parameter: it would be signed otherwise than sent', async () => {
        client = clientFor('http://127.0.0.1:1');
        let thrown: unknown;
        try {
          await client.getJSON('http://127.0.0.1:1/2/users/me?user.fields=name&user.fields=username', 'at', 'ats');
        } catch (err) {
          thrown = err;
        }
        expect(thrown).to.be.instanceOf(TypeError);
      });

      it('signs a GET with the access token and parses JSON (getJSON)', async () => {
        p = await provider((_req, res) => res.end('{"data":{"id":"1"}}'));
        client = clientFor(p.url);
        expect(await client.getJSON(`${p.url}/2/users/me?user.fields=name`, 'at', 'ats')).to.deep.equal({ data: { id: '1' } });
        const seen = p.seen[0]!;
        expect(seen.method).to.equal('GET');
        expect(seen.url).to.equal('/2/users/me?user.fields=name');
        expect(parseOAuthHeader(seen.headers.authorization).oauth_token).to.equal('at');
      });
    });

  describe('resending after a stale connection', () => {
    let p: Awaited<ReturnType<typeof provider>> | undefined;
    let client: TwitterOAuthClient | undefined;
    afterEach(async () => {
      await p?.close();
      p = undefined;
      client = undefined;
    });

    it('gives the resend only what is left of the timeout', async () => {
      let calls = 0;
      p = await provider((req, res) => {
        calls += 1;
        if (calls === 1) return void res.end(OK_REQUEST_TOKEN);
        // The reused connection dies unanswered late in the timeout; the resend gets no answer.
        if (calls === 2) setTimeout(() => req.socket.destroy(), 300);
      });
      client = clientWith(p.url, { timeout: 400 });
      await client.getRequestToken({ callbackURL: 'oob' });
      const started = Date.now();
      const err = await rejection(client.getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_TIMEOUT');
      expect(calls, 'the resend was made').to.equal(3);
      // 400 ms in all, not 300 + another 400.
      expect(Date.now() - started).to.be.within(380, 600);
    });
  });
});
