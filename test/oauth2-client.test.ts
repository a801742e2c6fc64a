import type http from 'node:http';
import { inspect } from 'node:util';
import { expect } from 'chai';
import { Agent } from 'undici';
import { TwitterOAuth2Client, type TwitterOAuth2ClientOptions } from '../lib/oauth2-client.js';
import { codeChallengeS256, createPKCE, createState } from '../lib/pkce.js';
import { DEFAULT_USER_FIELDS } from '../lib/profile.js';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';
import { json, provider, type Answer, type Provider } from './helpers/provider.js';
import { rejection } from './helpers/rejection.js';

const CLIENT_ID = 'client-id-value-TzNHbE5X';
// Secrets with prefixes no other text ends in: the redactor also blanks a secret cut off at the end of a text.
const CLIENT_SECRET = 'CS9-client-secret-value-0123456789abcdef';
const REDIRECT = 'http://127.0.0.1:3000/auth/x/callback';
const CODE = 'AC9-authorization-code-value-0123';
const VERIFIER = 'CV9-code-verifier-value-0123456789-abcdefghij';
const ACCESS = 'AT9-access-token-value-0123456789';
const REFRESH = 'RT9-refresh-token-value-0123456789';

const TOKEN_ANSWER = {
  token_type: 'bearer',
  expires_in: 7200,
  access_token: ACCESS,
  scope: 'tweet.read users.read offline.access',
  refresh_token: REFRESH,
};

const USER = { id: '2244994945', name: 'X Developers', username: 'XDevelopers' };

/** A client for the loopback provider at `url`; confidential unless `clientSecret: undefined` is given. */
function clientFor(url: string, extra: Partial<TwitterOAuth2ClientOptions> = {}): TwitterOAuth2Client {
  return new TwitterOAuth2Client({
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    authorizationURL: `${url}/i/oauth2/authorize`,
    tokenURL: `${url}/2/oauth2/token`,
    revokeURL: `${url}/2/oauth2/revoke`,
    profileURL: `${url}/2/users/me`,
    ...extra,
  });
}

/** `[id, secret]` from a Basic credential, each half form-decoded (RFC 6749 §2.3.1). */
function decodeBasic(header: string | undefined): { raw: string; id: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) throw new Error(`not a Basic credential: ${header}`);
  const raw = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { raw, id: decode(raw.slice(0, colon)), secret: decode(raw.slice(colon + 1)) };
}

/** The form body's fields, in order. */
function fields(body: string): [string, string][] {
  return [...new URLSearchParams(body)];
}

describe('TwitterOAuth2Client', () => {
  describe('constructor', () => {
    it('refuses options that are not an object', () => {
      expect(() => new TwitterOAuth2Client(undefined as never)).to.throw(TypeError, 'options');
      expect(() => new TwitterOAuth2Client('id' as never)).to.throw(TypeError, 'options');
    });

    it('throws a TypeError naming clientID when it is missing or empty', () => {
      expect(() => new TwitterOAuth2Client({} as never)).to.throw(TypeError, 'clientID');
      expect(() => new TwitterOAuth2Client({ clientID: '' })).to.throw(TypeError, 'clientID');
      expect(() => new TwitterOAuth2Client({ clientID: 42 } as never)).to.throw(TypeError, 'clientID');
    });

    it('throws a TypeError naming clientSecret when one is given but empty or not a string', () => {
      expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, clientSecret: '' })).to.throw(TypeError, 'clientSecret');
      expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, clientSecret: 1 } as never)).to.throw(TypeError, 'clientSecret');
    });

    it('refuses a relative or non-http endpoint URL with a TypeError naming the option', () => {
      for (const option of ['authorizationURL', 'tokenURL', 'revokeURL', 'profileURL'] as const) {
        expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, [option]: '/2/oauth2/token' }), option).to.throw(TypeError, option);
        expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, [option]: 'ftp://api.x.com/x' }), option).to.throw(TypeError, option);
      }
    });

    it("refuses a timeout that is not a positive number of milliseconds node's timers can hold", () => {
      for (const timeout of [0, -1, Number.NaN, Infinity, 2 ** 31, '1000']) {
        expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, timeout } as never), String(timeout)).to.throw(TypeError, 'timeout');
      }
      expect(new TwitterOAuth2Client({ clientID: CLIENT_ID, timeout: 2 ** 31 - 1 }).timeout).to.equal(2 ** 31 - 1);
    });

    it('refuses the agent option of earlier versions, naming dispatcher as its replacement', () => {
      expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, agent: {} } as never)).to.throw(TypeError, /agent is not supported.*dispatcher/);
    });

    it('refuses a dispatcher that is not an undici Dispatcher, and keeps one that is', () => {
      expect(() => new TwitterOAuth2Client({ clientID: CLIENT_ID, dispatcher: {} as never })).to.throw(TypeError, 'dispatcher');
      const dispatcher = new Agent();
      expect(new TwitterOAuth2Client({ clientID: CLIENT_ID, dispatcher }).dispatcher).to.equal(dispatcher);
      void dispatcher.close();
    });

    it("defaults to X's OAuth 2.0 endpoints on x.com and api.x.com, and a 10 s timeout", () => {
      const client = new TwitterOAuth2Client({ clientID: CLIENT_ID });
      expect(client.authorizationURLBase).to.equal('https://x.com/i/oauth2/authorize');
      expect(client.tokenURL).to.equal('https://api.x.com/2/oauth2/token');
      expect(client.revokeURL).to.equal('https://api.x.com/2/oauth2/revoke');
      expect(client.profileURL).to.equal('https://api.x.com/2/users/me');
      expect(client.timeout).to.equal(10_000);
      expect(client.dispatcher).to.equal(undefined);
    });

    it('is a confidential client with a clientSecret and a public one without', () => {
      expect(new TwitterOAuth2Client({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET }).confidential).to.equal(true);
      expect(new TwitterOAuth2Client({ clientID: CLIENT_ID }).confidential).to.equal(false);
    });

    it('keeps the client secret out of sight: not in JSON, not in inspect, not as a property', () => {
      const client = new TwitterOAuth2Client({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
      const text = `${JSON.stringify(client)}\n${inspect(client, { depth: 8, showHidden: true })}\n${Object.values(client).join(' ')}`;
      expect(text).not.to.include(CLIENT_SECRET);
      expect(text).not.to.include(basic);
    });
  });

  describe('authorizationURL', () => {
    const client = new TwitterOAuth2Client({ clientID: CLIENT_ID });

    it('builds X\'s authorize URL with exactly response_type, client_id, redirect_uri, scope, state, code_challenge and code_challenge_method=S256', () => {
      const href = client.authorizationURL({
        redirectURI: REDIRECT,
        scope: ['tweet.read', 'users.read', 'offline.access'],
        state: 'state-value',
        codeChallenge: 'challenge-value',
      });
      const url = new URL(href);
      expect(`${url.origin}${url.pathname}`).to.equal('https://x.com/i/oauth2/authorize');
      expect([...url.searchParams]).to.deep.equal([
        ['response_type', 'code'],
        ['client_id', CLIENT_ID],
        ['redirect_uri', REDIRECT],
        ['scope', 'tweet.read users.read offline.access'],
        ['state', 'state-value'],
        ['code_challenge', 'challenge-value'],
        ['code_challenge_method', 'S256'],
      ]);
      expect(url.hash).to.equal('');
    });

    it("separates scopes with %20, as X's examples do, and carries reserved characters in state and redirect_uri intact", () => {
      const state = 'a+b c&d=e/f?g#h%i';
      const redirectURI = 'http://127.0.0.1:3000/cb?next=%2Fhome&x=a+b';
      const href = client.authorizationURL({ redirectURI, scope: ['tweet.read', 'users.read'], state, codeChallenge: 'c' });
      expect(href).to.include('&scope=tweet.read%20users.read&');
      // A '+' in the query would mean a space to X; literal pluses must travel as %2B.
      expect(href.split('?')[1]).not.to.include('+');
      const url = new URL(href);
      expect(url.searchParams.get('state')).to.equal(state);
      expect(url.searchParams.get('redirect_uri')).to.equal(redirectURI);
    });

    it('carries what createPKCE and createState make, so the challenge is the S256 of the verifier the app keeps', () => {
      const pkce = createPKCE();
      const state = createState();
      const url = new URL(client.authorizationURL({ redirectURI: REDIRECT, scope: ['users.read'], state, codeChallenge: pkce.codeChallenge }));
      expect(url.searchParams.get('code_challenge')).to.equal(codeChallengeS256(pkce.codeVerifier));
      expect(url.searchParams.get('state')).to.equal(state);
    });

    it('refuses a missing redirectURI, state or codeChallenge, and an empty or missing scope, naming it', () => {
      const valid = { redirectURI: REDIRECT, scope: ['users.read'], state: 's', codeChallenge: 'c' };
      for (const name of ['redirectURI', 'state', 'codeChallenge'] as const) {
        expect(() => client.authorizationURL({ ...valid, [name]: '' }), name).to.throw(TypeError, name);
      }
      expect(() => client.authorizationURL({ ...valid, scope: [] })).to.throw(TypeError, 'scope');
      expect(() => client.authorizationURL({ ...valid, scope: 'users.read' as never })).to.throw(TypeError, 'scope');
      expect(() => client.authorizationURL(undefined as never)).to.throw(TypeError, 'redirectURI');
    });
  });

  it("keeps a configured authorize URL's own path and query as they are, a '+' included", () => {
    const client = new TwitterOAuth2Client({ clientID: CLIENT_ID, authorizationURL: 'https://auth.example/a+b/authorize?tenant=x+y' });
    const href = client.authorizationURL({ redirectURI: REDIRECT, scope: ['tweet.read', 'users.read'], state: 's', codeChallenge: 'c' });
    expect(href.startsWith('https://auth.example/a+b/authorize?tenant=x+y&response_type=code&')).to.equal(true);
    expect(href).to.include('&scope=tweet.read%20users.read&');
  });

  it('refuses userFields that are not an array of names, before calling X', async () => {
    const client = new TwitterOAuth2Client({ clientID: CLIENT_ID, profileURL: 'http://127.0.0.1:1/2/users/me' });
    for (const userFields of ['name,username', [''], [1]]) {
      let thrown: unknown;
      try {
        await client.getProfile(ACCESS, { userFields: userFields as never });
      } catch (err) {
        thrown = err;
      }
      expect(thrown, String(userFields)).to.be.instanceOf(TypeError);
    }
  });

  describe('talking to a provider', () => {
    let p: Provider | undefined;
    afterEach(async () => {
      await p?.close();
      p = undefined;
    });

    /** A loopback provider answering `answer`, and a confidential client for it. */
    async function start(answer: Answer, extra: Partial<TwitterOAuth2ClientOptions> = {}): Promise<TwitterOAuth2Client> {
      p = await provider(answer);
      return clientFor(p.url, extra);
    }

    const tokenAnswer: Answer = (_req, res) => json(res, 200, TOKEN_ANSWER);

    describe('exchangeCode', () => {
      it('authenticates a confidential client with HTTP Basic only: no client_id or client_secret in the body', async () => {
        const client = await start(tokenAnswer);
        await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER });
        const seen = p!.seen[0]!;
        expect(seen.method).to.equal('POST');
        expect(seen.url).to.equal('/2/oauth2/token');
        expect(seen.headers['content-type']).to.equal('application/x-www-form-urlencoded');
        expect(seen.headers.accept).to.equal('application/json');
        expect(seen.headers['accept-encoding']).to.equal('identity');
        expect(decodeBasic(seen.headers.authorization)).to.include({ id: CLIENT_ID, secret: CLIENT_SECRET });
        expect(fields(seen.body)).to.deep.equal([
          ['grant_type', 'authorization_code'],
          ['code', CODE],
          ['redirect_uri', REDIRECT],
          ['code_verifier', VERIFIER],
        ]);
      });

      it('form-encodes the client ID and secret before base64, as RFC 6749 §2.3.1 says', async () => {
        const clientID = 'my:client id';
        const clientSecret = 'sé cret+%&=~*!(x):y';
        const client = await start(tokenAnswer, { clientID, clientSecret });
        await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER });
        const basic = decodeBasic(p!.seen[0]!.headers.authorization);
        // The id's own colon is encoded, so the first colon is the separator; a space is '+'.
        expect(basic.raw.split(':')).to.have.length(2);
        expect(basic.raw.startsWith('my%3Aclient+id:')).to.equal(true);
        expect(basic.raw).to.match(/^[A-Za-z0-9%+._~*-]+:[A-Za-z0-9%+._~*-]+$/);
        expect(basic).to.include({ id: clientID, secret: clientSecret });
      });

      it('names a public client with client_id in the body and sends no Authorization', async () => {
        const client = await start(tokenAnswer, { clientSecret: undefined });
        await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER });
        const seen = p!.seen[0]!;
        expect(seen.headers.authorization).to.equal(undefined);
        expect(new URLSearchParams(seen.body).get('client_id')).to.equal(CLIENT_ID);
        expect(new URLSearchParams(seen.body).has('client_secret')).to.equal(false);
        expect(new URLSearchParams(seen.body).get('code_verifier')).to.equal(VERIFIER);
      });

      it('reads the answer: the tokens, the bearer type, the expiry from expires_in, the scopes, and params without the tokens', async () => {
        const client = await start((_req, res) => json(res, 200, { ...TOKEN_ANSWER, expires_in: 600 }));
        const before = Date.now();
        const token = await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER });
        const after = Date.now();
        expect(token.accessToken).to.equal(ACCESS);
        expect(token.refreshToken).to.equal(REFRESH);
        expect(token.tokenType).to.equal('bearer');
        expect(token.scope).to.deep.equal(['tweet.read', 'users.read', 'offline.access']);
        expect(token.expiresAt!.getTime()).to.be.within(before + 600_000, after + 600_000);
        expect(token.params).to.deep.equal({ token_type: 'bearer', expires_in: 600, scope: 'tweet.read users.read offline.access' });
        expect(JSON.stringify(token.params)).not.to.include(ACCESS).and.not.to.include(REFRESH);
      });

      it('leaves out refreshToken when X sends none (no offline.access), and expiresAt and the scope when they are absent', async () => {
        const client = await start((_req, res) => json(res, 200, { token_type: 'bearer', access_token: ACCESS }));
        const token = await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER });
        expect(token).not.to.have.property('refreshToken');
        expect(token).not.to.have.property('expiresAt');
        expect(token.scope).to.deep.equal([]);
        expect(token.params).to.deep.equal({ token_type: 'bearer' });
      });

      it('ignores an empty refresh_token, a non-numeric expires_in and extra spaces between scopes', async () => {
        const client = await start((_req, res) =>
          json(res, 200, { token_type: 'bearer', access_token: ACCESS, refresh_token: '', expires_in: '7200', scope: ' users.read  tweet.read ' }),
        );
        const token = await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER });
        expect(token).not.to.have.property('refreshToken');
        expect(token).not.to.have.property('expiresAt');
        expect(token.scope).to.deep.equal(['users.read', 'tweet.read']);
      });

      it('takes the token type in any case, as RFC 6749 §5.1 says it is case-insensitive', async () => {
        const client = await start((_req, res) => json(res, 200, { ...TOKEN_ANSWER, token_type: 'Bearer' }));
        expect((await client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER })).tokenType).to.equal('Bearer');
      });

      it('refuses an answer without access_token, or whose token_type is missing or not bearer, as ERR_TWITTER_RESPONSE', async () => {
        const answers: [unknown, string][] = [
          [{ token_type: 'bearer' }, 'access_token'],
          [{ token_type: 'bearer', access_token: '' }, 'access_token'],
          [{ token_type: 'bearer', access_token: 42 }, 'access_token'],
          [{ access_token: ACCESS }, 'token_type'],
          [{ access_token: ACCESS, token_type: 'mac' }, 'token_type'],
          [[], 'access_token'],
          [null, 'access_token'],
        ];
        for (const [answer, missing] of answers) {
          const client = await start((_req, res) => json(res, 200, answer));
          const err = await rejection(client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
          expect(err, JSON.stringify(answer)).to.include({ code: 'ERR_TWITTER_RESPONSE', endpoint: 'token', status: 502 });
          expect(err.message, JSON.stringify(answer)).to.include(missing);
          await p!.close();
        }
      });

      it('refuses a 200 answer that is not JSON as ERR_TWITTER_RESPONSE', async () => {
        const client = await start((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'));
        const err = await rejection(client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
        expect(err).to.include({ code: 'ERR_TWITTER_RESPONSE', endpoint: 'token', providerStatus: 200 });
        expect(err.message).to.include('not JSON');
      });

      it('refuses a missing code, redirectURI or codeVerifier with a TypeError, before calling X', async () => {
        const client = await start(tokenAnswer);
        const valid = { code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER };
        for (const name of ['code', 'redirectURI', 'codeVerifier'] as const) {
          let error: unknown;
          try {
            await client.exchangeCode({ ...valid, [name]: '' });
          } catch (caught) {
            error = caught;
          }
          expect(error, name).to.be.instanceOf(TypeError);
          expect((error as Error).message).to.include(name);
        }
        expect(p!.seen).to.have.length(0);
      });
    });

    describe('refresh', () => {
      it('sends grant_type=refresh_token with the refresh token, authenticated with Basic, and returns the new tokens', async () => {
        const client = await start((_req, res) => json(res, 200, { ...TOKEN_ANSWER, access_token: 'new-access', refresh_token: 'new-refresh' }));
        const token = await client.refresh(REFRESH);
        const seen = p!.seen[0]!;
        expect(seen.url).to.equal('/2/oauth2/token');
        expect(fields(seen.body)).to.deep.equal([
          ['grant_type', 'refresh_token'],
          ['refresh_token', REFRESH],
        ]);
        expect(decodeBasic(seen.headers.authorization)).to.include({ id: CLIENT_ID, secret: CLIENT_SECRET });
        expect(token).to.include({ accessToken: 'new-access', refreshToken: 'new-refresh' });
      });

      it('sends client_id for a public client, and no Authorization', async () => {
        const client = await start(tokenAnswer, { clientSecret: undefined });
        await client.refresh(REFRESH);
        const seen = p!.seen[0]!;
        expect(seen.headers.authorization).to.equal(undefined);
        expect(fields(seen.body)).to.deep.equal([
          ['grant_type', 'refresh_token'],
          ['refresh_token', REFRESH],
          ['client_id', CLIENT_ID],
        ]);
      });

      it('refuses a missing refresh token with a TypeError naming it', async () => {
        const client = await start(tokenAnswer);
        let error: unknown;
        try {
          await client.refresh('');
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.include('refreshToken');
      });
    });

    describe('revoke', () => {
      const revoked: Answer = (_req, res) => json(res, 200, { revoked: true });

      it('posts the token to the revoke endpoint with Basic, and no token_type_hint unless one is asked for', async () => {
        const client = await start(revoked);
        expect(await client.revoke(ACCESS)).to.equal(undefined);
        const seen = p!.seen[0]!;
        expect(seen.method).to.equal('POST');
        expect(seen.url).to.equal('/2/oauth2/revoke');
        expect(seen.headers['content-type']).to.equal('application/x-www-form-urlencoded');
        expect(decodeBasic(seen.headers.authorization)).to.include({ id: CLIENT_ID, secret: CLIENT_SECRET });
        expect(fields(seen.body)).to.deep.equal([['token', ACCESS]]);
      });

      it('sends token_type_hint when given, and refuses any other hint with a TypeError', async () => {
        const client = await start(revoked);
        await client.revoke(REFRESH, { tokenTypeHint: 'refresh_token' });
        await client.revoke(ACCESS, { tokenTypeHint: 'access_token' });
        expect(fields(p!.seen[0]!.body)).to.deep.equal([
          ['token', REFRESH],
          ['token_type_hint', 'refresh_token'],
        ]);
        expect(fields(p!.seen[1]!.body)).to.deep.equal([
          ['token', ACCESS],
          ['token_type_hint', 'access_token'],
        ]);
        let error: unknown;
        try {
          await client.revoke(ACCESS, { tokenTypeHint: 'id_token' as never });
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.include('tokenTypeHint');
        expect(p!.seen).to.have.length(2);
      });

      it('sends client_id for a public client, and no Authorization', async () => {
        const client = await start(revoked, { clientSecret: undefined });
        await client.revoke(ACCESS, { tokenTypeHint: 'access_token' });
        const seen = p!.seen[0]!;
        expect(seen.headers.authorization).to.equal(undefined);
        expect(fields(seen.body)).to.deep.equal([
          ['token', ACCESS],
          ['token_type_hint', 'access_token'],
          ['client_id', CLIENT_ID],
        ]);
      });

      it("reports a refusal as ERR_TWITTER_HTTP from the revoke endpoint, with X's words", async () => {
        const client = await start((_req, res) => json(res, 400, { error: 'invalid_request', error_description: 'Missing required parameter [token].' }));
        const err = await rejection(client.revoke(ACCESS));
        expect(err).to.include({
          code: 'ERR_TWITTER_HTTP',
          endpoint: 'revoke',
          status: 502,
          providerStatus: 400,
          providerError: 'invalid_request',
          providerMessage: 'Missing required parameter [token].',
        });
        expect(err.message).to.include('POST /2/oauth2/revoke');
      });
    });

    describe('getProfile', () => {
      const me: Answer = (_req, res) => json(res, 200, { data: USER });

      it('asks GET /2/users/me with the bearer token and the default user.fields', async () => {
        const client = await start(me);
        await client.getProfile(ACCESS);
        const seen = p!.seen[0]!;
        expect(seen.method).to.equal('GET');
        expect(seen.headers.authorization).to.equal(`Bearer ${ACCESS}`);
        const url = new URL(seen.url, p!.url);
        expect(url.pathname).to.equal('/2/users/me');
        expect([...url.searchParams]).to.deep.equal([['user.fields', DEFAULT_USER_FIELDS.join(',')]]);
        expect(DEFAULT_USER_FIELDS).not.to.include('confirmed_email');
      });

      it('adds confirmed_email with includeEmail, once, to the default or the given userFields', async () => {
        const client = await start(me);
        await client.getProfile(ACCESS, { includeEmail: true });
        await client.getProfile(ACCESS, { userFields: ['created_at'], includeEmail: true });
        await client.getProfile(ACCESS, { userFields: ['confirmed_email', 'name'], includeEmail: true });
        await client.getProfile(ACCESS, { userFields: ['name'] });
        const asked = p!.seen.map((s) => new URL(s.url, p!.url).searchParams.get('user.fields'));
        expect(asked).to.deep.equal([
          [...DEFAULT_USER_FIELDS, 'confirmed_email'].join(','),
          'created_at,confirmed_email',
          'confirmed_email,name',
          'name',
        ]);
      });

      it('maps the user to the profile, with the photo, the raw answer, and the confirmed email as a verified address', async () => {
        const data = { ...USER, profile_image_url: 'https://pbs.twimg.com/p.jpg', confirmed_email: 'dev@example.com' };
        const client = await start((_req, res) => json(res, 200, { data }));
        const profile = await client.getProfile(ACCESS, { includeEmail: true });
        expect(profile).to.deep.include({
          provider: 'twitter',
          id: USER.id,
          username: USER.username,
          displayName: USER.name,
          photos: [{ value: 'https://pbs.twimg.com/p.jpg' }],
          emails: [{ value: 'dev@example.com', verified: true }],
          _json: data,
        });
        expect(JSON.parse(profile._raw!)).to.deep.equal({ data });
      });

      it('has no emails when X returns no confirmed_email', async () => {
        const client = await start(me);
        expect(await client.getProfile(ACCESS, { includeEmail: true })).not.to.have.property('emails');
      });

      it('refuses an answer without a data object, or without id or username, as ERR_TWITTER_RESPONSE', async () => {
        for (const body of [{ errors: [{ message: 'x' }] }, { data: { id: '1' } }, { data: { username: 'u' } }]) {
          const client = await start((_req, res) => json(res, 200, body));
          const err = await rejection(client.getProfile(ACCESS));
          expect(err, JSON.stringify(body)).to.include({ code: 'ERR_TWITTER_RESPONSE', endpoint: 'profile' });
          await p!.close();
        }
      });

      it('refuses a missing access token with a TypeError naming it', async () => {
        const client = await start(me);
        let error: unknown;
        try {
          await client.getProfile('');
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.include('accessToken');
      });
    });

    describe('errors', () => {
      it("carries X's error and error_description from a refused exchange, and says what to fix", async () => {
        const description = 'Value passed for the authorization code was invalid.';
        const client = await start((_req, res) => json(res, 400, { error: 'invalid_request', error_description: description, errors: [{}] }));
        const err = await rejection(client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
        expect(err).to.include({
          code: 'ERR_TWITTER_HTTP',
          status: 502,
          providerStatus: 400,
          endpoint: 'token',
          providerError: 'invalid_request',
          providerMessage: description,
        });
        expect(err.message).to.include(`invalid_request: ${description}`);
        expect(err.message).to.include('older than 30 seconds');
        expect(err.body).to.include(description);
        expect(Object.keys(err)).not.to.include('body');
      });

      it('tells a refused refresh apart from a refused code exchange in what to fix', async () => {
        // X answers a used refresh token with invalid_request, as it does a used code.
        const client = await start((_req, res) =>
          json(res, 400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }),
        );
        const refresh = await rejection(client.refresh(REFRESH));
        expect(refresh.message).to.include('refresh token');
        expect(refresh.message).not.to.include('30 seconds');
        // A server that follows RFC 6749 §5.2 to the letter says invalid_grant for a bad code.
        await p!.close();
        const exchange = await start((_req, res) => json(res, 400, { error: 'invalid_grant', error_description: 'Invalid code.' }));
        const code = await rejection(exchange.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
        expect(code.message).not.to.include('refresh token');
        expect(code.message).to.include('30 seconds');
      });

      it('hints differently at a 401 unauthorized_client for a confidential and a public client', async () => {
        const unauthorized: Answer = (_req, res) => json(res, 401, { error: 'unauthorized_client', error_description: 'Missing valid authorization header' });
        const confidential = await rejection((await start(unauthorized)).exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
        await p!.close();
        const pub = await rejection(
          (await start(unauthorized, { clientSecret: undefined })).exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }),
        );
        for (const err of [confidential, pub]) {
          expect(err).to.include({ code: 'ERR_TWITTER_HTTP', providerStatus: 401, providerError: 'unauthorized_client' });
          expect(err.message).to.include('Missing valid authorization header');
        }
        expect(confidential.message).to.include('Check clientID and clientSecret');
        expect(pub.message).to.include('needs clientSecret');
        expect(confidential.message).not.to.equal(pub.message);
      });

      it('is ERR_TWITTER_RATE_LIMITED with the reset time, and status 503 for the app, when users/me answers 429', async () => {
        const client = await start((_req, res) =>
          json(res, 429, { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' }, { 'x-rate-limit-reset': '1893456000' }),
        );
        const err = await rejection(client.getProfile(ACCESS));
        expect(err).to.include({ code: 'ERR_TWITTER_RATE_LIMITED', status: 503, providerStatus: 429, endpoint: 'profile' });
        expect(err.rateLimitReset?.toISOString()).to.equal('2030-01-01T00:00:00.000Z');
        expect(err.message).to.include('resets at 2030-01-01T00:00:00.000Z');
      });

      it('is ERR_TWITTER_RATE_LIMITED without a reset time when X gives none', async () => {
        const client = await start((_req, res) => json(res, 429, { errors: [{ code: 88, message: 'Rate limit exceeded' }] }));
        const err = await rejection(client.getProfile(ACCESS));
        expect(err).to.include({ code: 'ERR_TWITTER_RATE_LIMITED', status: 503 });
        expect(err.rateLimitReset).to.equal(undefined);
        expect(err.message).not.to.include('resets at');
      });

      it("is ERR_PROFILE_UNAVAILABLE with providerError client-not-enrolled and X's detail when the app is not enrolled", async () => {
        const detail =
          'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.';
        const problem = {
          client_id: '123',
          detail,
          registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
          title: 'Client Forbidden',
          required_enrollment: 'Appropriate Level of API Access',
          reason: 'client-not-enrolled',
          type: 'https://api.twitter.com/2/problems/client-forbidden',
        };
        const client = await start((_req, res) => json(res, 403, problem));
        const err = await rejection(client.getProfile(ACCESS));
        expect(err).to.include({
          code: 'ERR_PROFILE_UNAVAILABLE',
          status: 502,
          providerStatus: 403,
          endpoint: 'profile',
          providerError: 'client-not-enrolled',
          providerMessage: detail,
        });
        expect(err.message).to.include(detail);
        expect(err.message).to.include('not enrolled');
        expect(JSON.parse(err.body!)).to.deep.equal(problem);
        expect(Object.keys(err)).not.to.include('body');
      });

      it('names a client-forbidden problem by its type when it has no reason', async () => {
        const client = await start((_req, res) =>
          json(res, 403, { title: 'Client Forbidden', detail: 'Not enrolled.', type: 'https://api.x.com/2/problems/client-forbidden' }),
        );
        const err = await rejection(client.getProfile(ACCESS));
        expect(err).to.include({ code: 'ERR_PROFILE_UNAVAILABLE', providerError: 'client-forbidden' });
        expect(err.message).to.include('not enrolled');
      });

      it('says the scopes may be missing on another 403, and that the token may have expired on a 401', async () => {
        const client = await start((req, res) =>
          req.headers.authorization === 'Bearer narrow'
            ? json(res, 403, { title: 'Forbidden', type: 'about:blank', status: 403, detail: 'Forbidden' })
            : json(res, 401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }),
        );
        const forbidden = await rejection(client.getProfile('narrow'));
        expect(forbidden).to.include({ code: 'ERR_PROFILE_UNAVAILABLE', providerStatus: 403, providerMessage: 'Forbidden' });
        expect(forbidden.message).to.include('tweet.read and users.read');
        const unauthorized = await rejection(client.getProfile(ACCESS));
        expect(unauthorized).to.include({ code: 'ERR_PROFILE_UNAVAILABLE', providerStatus: 401 });
        expect(unauthorized.message).to.include('expired or been revoked');
      });

      it('is ERR_TWITTER_TIMEOUT, status 504, when X does not answer in time', async () => {
        const client = await start(() => {}, { timeout: 150 });
        const started = Date.now();
        const err = await rejection(client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
        expect(err).to.include({ code: 'ERR_TWITTER_TIMEOUT', status: 504, endpoint: 'token' });
        expect(Date.now() - started).to.be.below(5000);
      });

      it('does not follow a redirect: ERR_TWITTER_REDIRECT, and the Location is never called', async () => {
        const client = await start((req, res) => {
          if (req.url === '/elsewhere') return json(res, 200, TOKEN_ANSWER);
          res.writeHead(307, { location: '/elsewhere' }).end();
        });
        const err = await rejection(client.refresh(REFRESH));
        expect(err).to.include({ code: 'ERR_TWITTER_REDIRECT', providerStatus: 307, endpoint: 'token' });
        expect(p!.seen.map((s) => s.url)).to.deep.equal(['/2/oauth2/token']);
      });

      it('never puts a secret in an error, its toString, JSON, inspect, cause or body, even when the answer echoes the request', async () => {
        const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
        const secrets = [CLIENT_SECRET, CODE, VERIFIER, ACCESS, REFRESH, basic];
        const html = (t: string) => [...t].map((c) => `&#${c.charCodeAt(0)};`).join('');
        const echoOf = (req: http.IncomingMessage, body: string) => JSON.stringify({ message: 'no match', headers: req.headers, body });
        const failures: [string, Answer][] = [
          ['an OAuth error', (_req, res) => json(res, 400, { error: 'invalid_request', error_description: 'Value passed was invalid.' })],
          ['an echo of headers and body in JSON', (req, res, seen) => res.writeHead(501).end(echoOf(req, seen.body))],
          ['a percent-encoded echo', (req, res, seen) => res.writeHead(400).end(encodeURIComponent(echoOf(req, seen.body)))],
          ['an echo in HTML entities', (req, res, seen) => res.writeHead(502, { 'content-type': 'text/html' }).end(`<pre>${html(echoOf(req, seen.body))}</pre>`)],
          ['the Authorization header alone', (req, res) => res.writeHead(401).end(String(req.headers.authorization))],
          [
            'an OAuth error describing the request',
            (req, res, seen) => json(res, 400, { error: 'invalid_request', error_description: `${seen.body} ${req.headers.authorization}` }),
          ],
          [
            'an OAuth error whose name repeats the request',
            (req, res, seen) => json(res, 400, { error: `${seen.body} ${req.headers.authorization}`, error_description: 'No match.' }),
          ],
          [
            'a problem whose reason repeats the request',
            (req, res, seen) => json(res, 403, { title: 'Forbidden', reason: `${req.headers.authorization} ${seen.body}`, detail: 'No match.' }),
          ],
          [
            'a problem whose detail repeats the request',
            (req, res, seen) =>
              json(res, 403, { title: 'Forbidden', reason: 'client-not-enrolled', detail: `${req.headers.authorization} ${seen.body}`, type: 'about:blank' }),
          ],
          ['a 429 echo', (req, res, seen) => json(res, 429, JSON.parse(echoOf(req, seen.body)), { 'x-rate-limit-reset': '1893456000' })],
          ['a 200 echo that is not JSON', (req, res, seen) => res.writeHead(200).end(`${seen.body}\n${req.headers.authorization}`)],
          ['a 200 echo in JSON without tokens', (req, res, seen) => json(res, 200, JSON.parse(echoOf(req, seen.body)))],
          ['a redirect to the echo', (_req, res, seen) => res.writeHead(302, { location: `http://127.0.0.1:1/?${seen.body}` }).end()],
          ['a reset', (req) => req.socket.destroy()],
          ['no answer', () => {}],
          ['not HTTP', (req) => req.socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n')],
          ['a body too large, echoing', (req, res, seen) => res.end(echoOf(req, seen.body).repeat(2 * 1024 * 1024 / 256))],
        ];
        const calls: [string, Partial<TwitterOAuth2ClientOptions>, (c: TwitterOAuth2Client) => Promise<unknown>][] = [
          ['exchangeCode', {}, (c) => c.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER })],
          ['exchangeCode (public)', { clientSecret: undefined }, (c) => c.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER })],
          ['refresh', {}, (c) => c.refresh(REFRESH)],
          ['revoke', {}, (c) => c.revoke(REFRESH, { tokenTypeHint: 'refresh_token' })],
          ['getProfile', {}, (c) => c.getProfile(ACCESS, { includeEmail: true })],
        ];
        for (const [what, fail] of failures) {
          for (const [call, extra, run] of calls) {
            const client = await start(fail, { timeout: 200, ...extra });
            let err;
            try {
              await run(client);
            } catch (caught) {
              err = caught as Error & { cause?: unknown; body?: string };
            }
            // A 200 echo of a revoke is a success: revoke reads nothing from it.
            if (err === undefined && call === 'revoke' && what.startsWith('a 200')) {
              await p!.close();
              continue;
            }
            expect(err, `${what} / ${call}`).to.be.instanceOf(Error);
            const text = [
              err!.message,
              String(err),
              JSON.stringify(err),
              inspect(err, { depth: 8, showHidden: true }),
              String(err!.cause ?? ''),
              JSON.stringify(err!.cause ?? null),
              inspect(err!.cause, { depth: 8, showHidden: true }),
              err!.stack ?? '',
              err!.body ?? '',
            ].join('\n');
            for (const secret of secrets) {
              for (const form of [secret, encodeURIComponent(secret)]) {
                expect(text, `${what} / ${call} leaks ${form}`).not.to.include(form);
              }
            }
            await p!.close();
          }
        }
      });

      it('keeps no part of a success answer that is not JSON in the error: it may hold the tokens', async () => {
        const token = 'ATOKEN-abcdefghijklmnop';
        // A broken JSON encoder (the parser quotes what it stopped at), and a bare token (it quotes all of a short text).
        for (const body of [`{"token_type":"bearer","access_token": ${token}}`, token.slice(0, 20)]) {
          const client = await start((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
          const err = await rejection(client.exchangeCode({ code: CODE, redirectURI: REDIRECT, codeVerifier: VERIFIER }));
          expect(err.code).to.equal('ERR_TWITTER_RESPONSE');
          const text = [err.message, inspect(err, { depth: 8, showHidden: true }), String(err.cause ?? ''), err.body ?? ''].join('\n');
          for (let i = 0; i + 6 <= token.length; i++) expect(text, body).not.to.include(token.slice(i, i + 6));
          await p!.close();
        }
      });
    });
  });

  describe('against the fake X', () => {
    let fake: FakeTwitter;
    afterEach(() => fake.close());

    const ADA = { id: '42', screen_name: 'ada', name: 'Ada', email: 'ada@example.com' };

    async function startX(clientSecret: string | undefined): Promise<TwitterOAuth2Client> {
      fake = await startFakeTwitter({
        clientID: CLIENT_ID,
        ...(clientSecret !== undefined ? { clientSecret } : {}),
        callbackURLs: [REDIRECT],
        users: [ADA],
        autoApprove: { id: ADA.id, screen_name: ADA.screen_name },
      });
      return new TwitterOAuth2Client({ clientID: CLIENT_ID, ...(clientSecret !== undefined ? { clientSecret } : {}), ...fake.oauth2Endpoints });
    }

    /** Sends the user to the fake's authorize page (approved at once); returns the callback's code, and the verifier. */
    async function authorize(client: TwitterOAuth2Client, scope: string[]): Promise<{ code: string; codeVerifier: string }> {
      const { codeVerifier, codeChallenge } = createPKCE();
      const state = createState();
      const res = await fetch(client.authorizationURL({ redirectURI: REDIRECT, scope, state, codeChallenge }), { redirect: 'manual' });
      expect(res.status).to.equal(302);
      const callback = new URL(res.headers.get('location')!);
      expect(`${callback.origin}${callback.pathname}`).to.equal(REDIRECT);
      expect(callback.searchParams.get('state')).to.equal(state);
      return { code: callback.searchParams.get('code')!, codeVerifier };
    }

    it('signs in as a confidential client: authorize, exchange, profile, refresh, then revoke', async () => {
      const client = await startX(CLIENT_SECRET);
      const { code, codeVerifier } = await authorize(client, ['tweet.read', 'users.read', 'offline.access']);
      const token = await client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier });
      expect(token.scope).to.deep.equal(['tweet.read', 'users.read', 'offline.access']);
      expect(token.params).to.deep.equal({ token_type: 'bearer', expires_in: 7200, scope: 'tweet.read users.read offline.access' });
      expect(token.refreshToken).to.be.a('string');

      const profile = await client.getProfile(token.accessToken);
      expect(profile).to.include({ id: ADA.id, username: 'ada', displayName: 'Ada' });

      const renewed = await client.refresh(token.refreshToken!);
      expect(renewed.refreshToken).to.be.a('string').and.not.equal(token.refreshToken);
      // X's refresh tokens work once: the old one is spent.
      const spent = await rejection(client.refresh(token.refreshToken!));
      expect(spent).to.include({ code: 'ERR_TWITTER_HTTP', providerStatus: 400, providerError: 'invalid_request' });

      await client.revoke(renewed.accessToken, { tokenTypeHint: 'access_token' });
      const revoked = await rejection(client.getProfile(renewed.accessToken));
      expect(revoked).to.include({ code: 'ERR_PROFILE_UNAVAILABLE', providerStatus: 401 });
      expect(fake.stats()).to.include({ oauth2Token: 3, usersMe: 2, oauth2Revoke: 1, pendingAuthorizations: 0 });
    });

    it('signs in as a public client, which the fake knows by client_id alone', async () => {
      const client = await startX(undefined);
      const { code, codeVerifier } = await authorize(client, ['tweet.read', 'users.read']);
      const token = await client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier });
      expect(token).not.to.have.property('refreshToken');
      expect((await client.getProfile(token.accessToken)).username).to.equal('ada');
    });

    it('sends Basic credentials with reserved characters that the fake decodes as X does (RFC 6749 §2.3.1)', async () => {
      const client = await startX('sé cret+%&=:~*!()');
      const { code, codeVerifier } = await authorize(client, ['tweet.read', 'users.read']);
      expect((await client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier })).accessToken).to.be.a('string');
    });

    it("surfaces the fake's refusal of a reused code, with X's words and what to fix", async () => {
      const client = await startX(CLIENT_SECRET);
      const { code, codeVerifier } = await authorize(client, ['tweet.read', 'users.read']);
      await client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier });
      const err = await rejection(client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier }));
      expect(err).to.include({
        code: 'ERR_TWITTER_HTTP',
        providerStatus: 400,
        providerError: 'invalid_request',
        providerMessage: 'Value passed for the authorization code was invalid.',
      });
      expect(err.message).to.include('already used');
    });

    it('is refused with the confidential hint when the client secret is wrong', async () => {
      await startX(CLIENT_SECRET);
      const wrong = new TwitterOAuth2Client({ clientID: CLIENT_ID, clientSecret: 'not-the-secret', ...fake.oauth2Endpoints });
      const { code, codeVerifier } = await authorize(wrong, ['tweet.read', 'users.read']);
      const err = await rejection(wrong.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier }));
      expect(err).to.include({ code: 'ERR_TWITTER_HTTP', providerStatus: 401, providerError: 'unauthorized_client' });
      expect(err.message).to.include('Check clientID and clientSecret');
      expect(err.message).not.to.include('not-the-secret');
    });

    it('is refused with the public hint when a public client signs in to a confidential app', async () => {
      await startX(CLIENT_SECRET);
      const pub = new TwitterOAuth2Client({ clientID: CLIENT_ID, ...fake.oauth2Endpoints });
      const { code, codeVerifier } = await authorize(pub, ['tweet.read', 'users.read']);
      const err = await rejection(pub.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier }));
      expect(err).to.include({ code: 'ERR_TWITTER_HTTP', providerStatus: 401, providerError: 'unauthorized_client' });
      expect(err.message).to.include('needs clientSecret');
    });

    it('gets the confirmed email with the users.email scope and includeEmail, and none without the scope', async () => {
      const client = await startX(CLIENT_SECRET);
      const withScope = await authorize(client, ['tweet.read', 'users.read', 'users.email']);
      const token = await client.exchangeCode({ code: withScope.code, redirectURI: REDIRECT, codeVerifier: withScope.codeVerifier });
      expect((await client.getProfile(token.accessToken, { includeEmail: true })).emails).to.deep.equal([{ value: ADA.email, verified: true }]);

      const without = await authorize(client, ['tweet.read', 'users.read']);
      const plain = await client.exchangeCode({ code: without.code, redirectURI: REDIRECT, codeVerifier: without.codeVerifier });
      expect(await client.getProfile(plain.accessToken, { includeEmail: true })).not.to.have.property('emails');
    });

    it('is ERR_PROFILE_UNAVAILABLE naming the scopes when the token lacks tweet.read', async () => {
      const client = await startX(CLIENT_SECRET);
      const { code, codeVerifier } = await authorize(client, ['users.read']);
      const token = await client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier });
      const err = await rejection(client.getProfile(token.accessToken));
      expect(err).to.include({ code: 'ERR_PROFILE_UNAVAILABLE', providerStatus: 403 });
      expect(err.message).to.include('tweet.read and users.read');
    });

    it("is ERR_TWITTER_RATE_LIMITED when the fake's users/me answers 429 with a reset", async () => {
      const client = await startX(CLIENT_SECRET);
      const { code, codeVerifier } = await authorize(client, ['tweet.read', 'users.read']);
      const token = await client.exchangeCode({ code, redirectURI: REDIRECT, codeVerifier });
      fake.injectFault('users_me', { status: 429, body: '{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank"}', headers: { 'x-rate-limit-reset': '1893456000' } });
      const err = await rejection(client.getProfile(token.accessToken));
      expect(err).to.include({ code: 'ERR_TWITTER_RATE_LIMITED', status: 503 });
      expect(err.rateLimitReset?.getTime()).to.equal(1893456000 * 1000);
    });
  });
});
