import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import type { FakeTwitter, FakeTwitterOptions } from '../../lib/testing/index.js';
import { WRONG_PASSWORD } from '../../lib/testing/context.js';
import { OAUTH2_SCOPES } from '../../lib/testing/oauth2.js';
import { Browser, ManualClock, startFake } from './helpers.js';

const CLIENT_ID = 'fake-client-id';
const CLIENT_SECRET = 'fake-client-secret';
const REDIRECT = 'http://127.0.0.1:3000/auth/x/callback';
const DECIDE = '/i/oauth2/decide';
const SCOPE = 'tweet.read users.read offline.access';
const ALICE = { id: '1001', screen_name: 'alice', name: 'Alice', password: 'alice-pw', email: 'alice@example.com' };

/** A fresh RFC 7636 verifier: 43 characters of base64url. */
function newVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** BASE64URL(SHA256(verifier)), computed here rather than with lib/pkce.ts, so the fake is checked against its own reading of RFC 7636. */
function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function basic(id = CLIENT_ID, secret = CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** The query of a redirect's Location, after checking it goes to `base` (the redirect_uri). */
function callbackQuery(res: Response, base = REDIRECT): URLSearchParams {
  expect(res.status, 'a redirect').to.equal(302);
  const location = res.headers.get('location')!;
  expect(location.startsWith(`${base}?`), location).to.equal(true);
  return new URL(location).searchParams;
}

/** X's OAuth 2.0 error answer: exactly `{error, error_description}`, as JSON, with `status`. */
async function expectOAuthError(res: Response, status: number, error: string): Promise<string> {
  expect(res.status).to.equal(status);
  expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body)).to.deep.equal(['error', 'error_description']);
  expect(body.error).to.equal(error);
  expect(body.error_description).to.be.a('string').and.not.equal('');
  return body.error_description as string;
}

/** X's error page for a wrong client or redirect_uri: no redirect anywhere. */
async function expectErrorPage(res: Response): Promise<void> {
  expect(res.status).to.equal(400);
  expect(res.headers.get('location')).to.equal(null);
  expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
  expect(await res.text()).to.include('able to give access to the App');
}

/** The hidden `authorization` field of a consent page. */
function authorizationId(page: string): string {
  const id = /name="authorization" value="([^"]+)"/.exec(page)?.[1];
  if (id === undefined) throw new Error('no authorization field on the page');
  return id;
}

describe('fake X: OAuth 2.0', () => {
  let fake: FakeTwitter;
  afterEach(() => fake.close());

  /** A confidential app with REDIRECT registered and ALICE as its only account. */
  function startX(options: Partial<FakeTwitterOptions> = {}, clock?: ManualClock): Promise<FakeTwitter> {
    return startFake({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURLs: [REDIRECT], users: [ALICE], ...options }, clock);
  }

  /** The authorize URL; a parameter given as `undefined` is left out. */
  function authorizeURL(params: Record<string, string | undefined> = {}, verifier = newVerifier()): string {
    const all: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: SCOPE,
      state: 'state-123',
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
      ...params,
    };
    const query = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
    return `${fake.oauth2Endpoints.authorizationURL}?${query.toString().replace(/\+/g, '%20')}`;
  }

  function authorize(params: Record<string, string | undefined> = {}, verifier?: string): Promise<Response> {
    return fetch(authorizeURL(params, verifier), { redirect: 'manual' });
  }

  /** With autoApprove: a code for a fresh verifier, the verifier, and the redirect_uri it was issued for. */
  async function newCode(params: Record<string, string | undefined> = {}): Promise<{ code: string; verifier: string; redirectURI: string }> {
    const verifier = newVerifier();
    const redirectURI = params.redirect_uri ?? REDIRECT;
    const code = callbackQuery(await authorize(params, verifier), redirectURI).get('code')!;
    expect(code).to.be.a('string');
    return { code, verifier, redirectURI };
  }

  /** A form POST, with the app's Basic credentials unless `authorization` says otherwise (`null`: none). */
  function post(url: string, form: Record<string, string>, authorization: string | null = basic()): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization !== null ? { authorization } : {}) },
      body: new URLSearchParams(form).toString(),
    });
  }

  function token(form: Record<string, string>, authorization?: string): Promise<Response> {
    return post(fake.oauth2Endpoints.tokenURL, form, ...(authorization === undefined ? [] : [authorization]));
  }

  function exchange(code: { code: string; verifier: string; redirectURI: string }, authorization?: string): Promise<Response> {
    return token({ grant_type: 'authorization_code', code: code.code, redirect_uri: code.redirectURI, code_verifier: code.verifier }, authorization);
  }

  interface TokenAnswer {
    token_type: string;
    expires_in: number;
    access_token: string;
    scope: string;
    refresh_token?: string;
  }

  async function tokens(res: Response): Promise<TokenAnswer> {
    expect(res.status, 'the token answer').to.equal(200);
    return (await res.json()) as TokenAnswer;
  }

  function me(accessToken: string, query = ''): Promise<Response> {
    return fetch(`${fake.oauth2Endpoints.profileURL}${query}`, { headers: { authorization: `Bearer ${accessToken}` } });
  }

  const AUTO = { autoApprove: { id: ALICE.id, screen_name: ALICE.screen_name } };

  describe('authorize: the client and its redirect_uri', () => {
    beforeEach(async () => {
      fake = await startX();
    });

    it('shows an error page, and redirects nowhere, for a wrong or missing client_id', async () => {
      await expectErrorPage(await authorize({ client_id: 'someone-else' }));
      await expectErrorPage(await authorize({ client_id: undefined }));
      await expectErrorPage(await authorize({ client_id: CLIENT_ID.toUpperCase() }));
    });

    it('shows an error page, and redirects nowhere, for a redirect_uri that is not exactly a registered one', async () => {
      for (const redirectURI of [
        `${REDIRECT}/`,
        `${REDIRECT}?next=/`,
        `${REDIRECT}#`,
        'http://127.0.0.1:3001/auth/x/callback',
        'https://127.0.0.1:3000/auth/x/callback',
        'http://localhost:3000/auth/x/callback',
        'http://127.0.0.1:3000/auth/X/callback',
        // Spellings a URL parser takes for the same URL; X compares the string (RFC 6749 §3.1.2.3).
        'HTTP://127.0.0.1:3000/auth/x/callback',
        'http://127.0.0.1:3000/auth/x/./callback',
        'http://127.0.0.1:3000/auth/y/../x/callback',
        'http://127.1:3000/auth/x/callback',
        'javascript:alert(1)',
        '',
      ]) {
        const res = await authorize({ redirect_uri: redirectURI });
        expect(res.status, redirectURI).to.equal(400);
        await expectErrorPage(res);
      }
      await expectErrorPage(await authorize({ redirect_uri: undefined }));
    });

    it('takes a registered redirect_uri with its own query, and keeps that query on the way back', async () => {
      await fake.close();
      const withQuery = `${REDIRECT}?tenant=a%2Fb`;
      fake = await startX({ callbackURLs: [REDIRECT, withQuery], ...AUTO });
      const res = await authorize({ redirect_uri: withQuery });
      expect(res.headers.get('location')).to.match(new RegExp(`^${REDIRECT.replace(/[.?]/g, '\\$&')}\\?tenant=a%2Fb&state=state-123&code=`));
    });

    it('takes any http(s) redirect_uri when no callback URLs are registered, but never another scheme', async () => {
      await fake.close();
      fake = await startX({ callbackURLs: undefined, ...AUTO });
      callbackQuery(await authorize({ redirect_uri: 'https://app.example/cb' }), 'https://app.example/cb');
      await expectErrorPage(await authorize({ redirect_uri: 'javascript:alert(1)' }));
      await expectErrorPage(await authorize({ redirect_uri: 'myapp:/cb' }));
    });
  });

  describe('authorize: errors sent back to the app', () => {
    beforeEach(async () => {
      fake = await startX(AUTO);
    });

    /** The error the app is sent back with, after checking no code came with it. */
    async function backWithError(params: Record<string, string | undefined>): Promise<URLSearchParams> {
      const query = callbackQuery(await authorize(params));
      expect(query.has('code')).to.equal(false);
      expect(query.get('error_description')).to.be.a('string');
      return query;
    }

    it('sends a response_type other than code back with unsupported_response_type and the state', async () => {
      for (const responseType of ['token', 'code id_token', undefined]) {
        const query = await backWithError({ response_type: responseType });
        expect(query.get('error'), String(responseType)).to.equal('unsupported_response_type');
        expect(query.get('state')).to.equal('state-123');
      }
    });

    it('sends an unknown or missing scope back with invalid_scope and the state', async () => {
      for (const scope of ['tweet.read users.read account.follows.read', 'users.read,tweet.read', '', undefined]) {
        const query = await backWithError({ scope });
        expect(query.get('error'), String(scope)).to.equal('invalid_scope');
        expect(query.get('state')).to.equal('state-123');
      }
    });

    it('sends a missing state, or one over 500 characters, back with invalid_request', async () => {
      const missing = await backWithError({ state: undefined });
      expect(missing.get('error')).to.equal('invalid_request');
      expect(missing.has('state')).to.equal(false);
      const long = await backWithError({ state: 's'.repeat(501) });
      expect(long.get('error')).to.equal('invalid_request');
      // 500 characters is X's documented limit, and allowed.
      expect(callbackQuery(await authorize({ state: 's'.repeat(500) })).get('code')).to.be.a('string');
    });

    it('sends a missing PKCE challenge or method, or an unknown method, back with invalid_request and the state', async () => {
      for (const params of [{ code_challenge: undefined }, { code_challenge_method: undefined }, { code_challenge_method: 'SHA256' }, { code_challenge: '' }]) {
        const query = await backWithError(params);
        expect(query.get('error'), JSON.stringify(params)).to.equal('invalid_request');
        expect(query.get('state')).to.equal('state-123');
      }
    });

    it('keeps the state byte for byte, reserved characters and all, with an error and with a code', async () => {
      const state = 'a+b c&d=e/f?g#h%25i€';
      expect((await backWithError({ response_type: 'token', state })).get('state')).to.equal(state);
      expect(callbackQuery(await authorize({ state })).get('state')).to.equal(state);
    });
  });

  describe('authorize: the sign-in pages', () => {
    beforeEach(async () => {
      fake = await startX({ appName: 'Test App' });
    });

    /** Signs in on the page and allows; returns the answer to the form. */
    async function signIn(browser: Browser, params: Record<string, string | undefined> = {}, password = ALICE.password): Promise<Response> {
      const page = await (await browser.get(authorizeURL(params))).text();
      return browser.submit(`${fake.url}${DECIDE}`, { authorization: authorizationId(page), username: 'alice', password, decision: 'allow' });
    }

    it("shows a signed-out user the sign-in page: username and password, the app's name, and a line for each scope asked", async () => {
      const res = await new Browser().get(authorizeURL({ scope: 'tweet.read users.read offline.access' }));
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      const page = await res.text();
      for (const id of ['username', 'password', 'allow', 'cancel']) expect(page).to.include(`id="${id}"`);
      expect(page).to.include('Authorize Test App to access your account?');
      expect(page).to.include(`action="${DECIDE}"`);
      // X's own descriptions of the scopes asked for, and none of another.
      expect(page).to.include('<li>All the Tweets you can view, including Tweets from protected accounts.</li>');
      expect(page).to.include('<li>Any account you can view, including protected accounts.</li>');
      expect(page).to.include('<li>Stay connected to your account until you revoke access.</li>');
      expect(page).not.to.include(OAUTH2_SCOPES['dm.read']!);
      expect(page).not.to.include('any username and password');
      // Nothing redirects until the user decides.
      expect(res.headers.get('location')).to.equal(null);
    });

    it('signs the user in on Allow and sends them back with a code and the state, which exchange for their token', async () => {
      const verifier = newVerifier();
      const browser = new Browser();
      const page = await (await browser.get(authorizeURL({ state: 'st-1' }, verifier))).text();
      const res = await browser.submit(`${fake.url}${DECIDE}`, {
        authorization: authorizationId(page),
        username: 'alice',
        password: ALICE.password,
        decision: 'allow',
      });
      expect(res.headers.getSetCookie()[0]).to.match(/^fake_twitter_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
      const query = callbackQuery(res);
      expect([...query.keys()]).to.deep.equal(['state', 'code']);
      expect(query.get('state')).to.equal('st-1');
      const answer = await tokens(await exchange({ code: query.get('code')!, verifier, redirectURI: REDIRECT }));
      const user = (await (await me(answer.access_token)).json()) as { data: Record<string, string> };
      expect(user.data).to.deep.equal({ id: ALICE.id, name: ALICE.name, username: 'alice' });
    });

    it('shows the sign-in page again for a wrong password, with the error and the username, and the request stays open', async () => {
      const browser = new Browser();
      const page = await (await browser.get(authorizeURL())).text();
      const authorization = authorizationId(page);
      const wrong = await browser.submit(`${fake.url}${DECIDE}`, { authorization, username: 'alice', password: 'nope', decision: 'allow' });
      expect(wrong.status).to.equal(200);
      expect(wrong.headers.get('location')).to.equal(null);
      const again = await wrong.text();
      expect(again).to.include(WRONG_PASSWORD);
      expect(again).to.include('value="alice"');
      expect(again).not.to.include('nope');
      const right = await browser.submit(`${fake.url}${DECIDE}`, { authorization, username: 'alice', password: ALICE.password, decision: 'allow' });
      expect(callbackQuery(right).get('code')).to.be.a('string');
    });

    it('refuses a username that is not an account', async () => {
      const res = await signIn(new Browser(), {}, 'x');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include(WRONG_PASSWORD);
    });

    it('shows a signed-in user the approval page, without credentials, and sends them back with a code on Allow', async () => {
      const browser = new Browser();
      await signIn(browser);
      const res = await browser.get(authorizeURL({ state: 'st-2', scope: 'tweet.read users.read' }));
      expect(res.status).to.equal(200);
      const page = await res.text();
      expect(page).to.include('Authorize Test App to access your account?');
      expect(page).to.match(/id="signed-in-as">@alice</);
      expect(page).to.match(/id="allow"[^>]*>Authorize app</);
      expect(page).not.to.include('id="password"');
      expect(page).to.include(OAUTH2_SCOPES['users.read']!);
      expect(page).not.to.include(OAUTH2_SCOPES['offline.access']!);
      const allowed = await browser.submit(`${fake.url}${DECIDE}`, { authorization: authorizationId(page), decision: 'allow' });
      const query = callbackQuery(allowed);
      expect(query.get('state')).to.equal('st-2');
      expect(query.get('code')).to.be.a('string');
    });

    it('offers a signed-in user another account: "Not you?" leads to the sign-in page', async () => {
      const browser = new Browser();
      await signIn(browser);
      const page = await (await browser.get(authorizeURL())).text();
      const link = /<a href="([^"]+)">Not you\?<\/a>/.exec(page)![1]!.replace(/&#38;/g, '&');
      const switched = await (await browser.get(new URL(link, fake.url).href)).text();
      expect(switched).to.include('id="password"');
    });

    it('sends the user back with error=access_denied and the state on Cancel, and the request is then closed', async () => {
      const browser = new Browser();
      const page = await (await browser.get(authorizeURL({ state: 'st-3' }))).text();
      const authorization = authorizationId(page);
      const res = await browser.submit(`${fake.url}${DECIDE}`, { authorization, decision: 'cancel' });
      const query = callbackQuery(res);
      expect(query.get('error')).to.equal('access_denied');
      expect(query.get('state')).to.equal('st-3');
      expect(query.has('code')).to.equal(false);
      const late = await browser.submit(`${fake.url}${DECIDE}`, { authorization, username: 'alice', password: ALICE.password, decision: 'allow' });
      expect(late.status).to.equal(400);
      expect(late.headers.get('location')).to.equal(null);
      expect(await late.text()).to.include('no longer valid');
    });

    it('answers a decision for an unknown request, or without a decision, with an error page', async () => {
      const unknown = await new Browser().submit(`${fake.url}${DECIDE}`, { authorization: 'nope', decision: 'allow' });
      expect(unknown.status).to.equal(400);
      expect(unknown.headers.get('location')).to.equal(null);
      const browser = new Browser();
      const page = await (await browser.get(authorizeURL())).text();
      const undecided = await browser.submit(`${fake.url}${DECIDE}`, { authorization: authorizationId(page), username: 'alice', password: ALICE.password });
      expect(undecided.status).to.equal(400);
      expect(undecided.headers.get('location')).to.equal(null);
    });

    it('never shows the client secret or the password in a page', async () => {
      const browser = new Browser();
      const pages = [await (await browser.get(authorizeURL())).text()];
      pages.push(await (await signIn(browser, {}, 'wrong-password-value')).text());
      pages.push(await (await browser.get(authorizeURL())).text());
      for (const page of pages) {
        expect(page).not.to.include(CLIENT_SECRET);
        expect(page).not.to.include(ALICE.password);
        expect(page).not.to.include('wrong-password-value');
      }
    });

    it("approves at once as autoApprove's user, with no page", async () => {
      await fake.close();
      fake = await startX(AUTO);
      const verifier = newVerifier();
      const res = await authorize({ state: 'st-4' }, verifier);
      expect(res.headers.get('content-type')).not.to.include('text/html');
      const query = callbackQuery(res);
      expect(query.get('state')).to.equal('st-4');
      const answer = await tokens(await exchange({ code: query.get('code')!, verifier, redirectURI: REDIRECT }));
      expect(((await (await me(answer.access_token)).json()) as { data: { id: string } }).data.id).to.equal(ALICE.id);
    });
  });

  describe('token: the authorization_code grant', () => {
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock();
      fake = await startX(AUTO, clock);
    });

    it("exchanges a code and its S256 verifier for X's token answer, never cached", async () => {
      const res = await exchange(await newCode());
      expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const answer = await tokens(res);
      expect(Object.keys(answer).sort()).to.deep.equal(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
      expect(answer).to.include({ token_type: 'bearer', expires_in: 7200, scope: SCOPE });
      expect(answer.access_token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(answer.refresh_token).to.match(/^[A-Za-z0-9_-]{43}$/).and.not.equal(answer.access_token);
    });

    it('issues no refresh token without offline.access', async () => {
      const answer = await tokens(await exchange(await newCode({ scope: 'tweet.read users.read' })));
      expect(answer).not.to.have.property('refresh_token');
      expect(answer.scope).to.equal('tweet.read users.read');
    });

    it("refuses a verifier that is not the challenge's, and the failed attempt spends the code", async () => {
      const code = await newCode();
      for (const verifier of [newVerifier(), code.verifier.slice(0, -1) + (code.verifier.endsWith('A') ? 'B' : 'A'), '']) {
        await expectOAuthError(await exchange({ ...code, verifier }), 400, 'invalid_request');
      }
      // The right verifier now finds the code gone: a failed exchange cannot be retried to guess.
      const description = await expectOAuthError(await exchange(code), 400, 'invalid_request');
      expect(description).to.equal('Value passed for the authorization code was invalid.');
    });

    it('refuses the S256 challenge sent back as the verifier', async () => {
      const code = await newCode();
      await expectOAuthError(await exchange({ ...code, verifier: s256(code.verifier) }), 400, 'invalid_request');
    });

    it('accepts the plain method, as X does: the verifier is the challenge', async () => {
      const verifier = newVerifier();
      const code = callbackQuery(await authorize({ code_challenge: verifier, code_challenge_method: 'plain' })).get('code')!;
      await tokens(await exchange({ code, verifier, redirectURI: REDIRECT }));
      const other = callbackQuery(await authorize({ code_challenge: verifier, code_challenge_method: 'plain' })).get('code')!;
      await expectOAuthError(await exchange({ code: other, verifier: newVerifier(), redirectURI: REDIRECT }), 400, 'invalid_request');
    });

    it('takes a code once: a second exchange is refused, even with everything right', async () => {
      const code = await newCode();
      await tokens(await exchange(code));
      await expectOAuthError(await exchange(code), 400, 'invalid_request');
    });

    it("takes a code for 30 seconds of the fake's clock, and no longer", async () => {
      const early = await newCode();
      const late = await newCode();
      clock.advance(29_999);
      await tokens(await exchange(early));
      clock.advance(1);
      await expectOAuthError(await exchange(late), 400, 'invalid_request');
    });

    it("refuses a redirect_uri that is not the authorize request's, character for character, or none", async () => {
      for (const redirectURI of [`${REDIRECT}/`, 'http://127.0.0.1:3000/auth/x/./callback', 'HTTP://127.0.0.1:3000/auth/x/callback']) {
        const code = await newCode();
        await expectOAuthError(await exchange({ ...code, redirectURI }), 400, 'invalid_request');
        await expectOAuthError(await exchange(code), 400, 'invalid_request');
      }
      const code = await newCode();
      await expectOAuthError(await token({ grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier }), 400, 'invalid_request');
    });

    it('refuses an unknown or missing code', async () => {
      await expectOAuthError(await exchange({ code: 'made-up', verifier: newVerifier(), redirectURI: REDIRECT }), 400, 'invalid_request');
      await expectOAuthError(await token({ grant_type: 'authorization_code', redirect_uri: REDIRECT, code_verifier: newVerifier() }), 400, 'invalid_request');
    });

    it('refuses a body that is not form-encoded, and a grant type other than authorization_code or refresh_token', async () => {
      const code = await newCode();
      const asJSON = await fetch(fake.oauth2Endpoints.tokenURL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic() },
        body: JSON.stringify({ grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier }),
      });
      await expectOAuthError(asJSON, 400, 'invalid_request');
      await expectOAuthError(await token({ grant_type: 'client_credentials' }), 400, 'unsupported_grant_type');
      await expectOAuthError(await token({ grant_type: 'password', username: 'alice', password: ALICE.password }), 400, 'unsupported_grant_type');
      await expectOAuthError(await token({}), 400, 'unsupported_grant_type');
    });
  });

  describe('token: client authentication', () => {
    describe('of a confidential client', () => {
      beforeEach(async () => {
        fake = await startX(AUTO);
      });

      it('refuses an exchange without Basic credentials with unauthorized_client', async () => {
        const code = await newCode();
        const form = { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier };
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, form, null), 401, 'unauthorized_client');
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, { ...form, client_id: CLIENT_ID }, null), 401, 'unauthorized_client');
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, form, `Bearer ${CLIENT_SECRET}`), 401, 'unauthorized_client');
      });

      it('refuses the secret in the body (client_secret_post) with unauthorized_client, even beside good Basic credentials', async () => {
        const code = await newCode();
        const form = { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier };
        const post_ = { ...form, client_id: CLIENT_ID, client_secret: CLIENT_SECRET };
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, post_, null), 401, 'unauthorized_client');
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, post_, basic()), 401, 'unauthorized_client');
      });

      it("refuses a wrong secret, or another client's id, in the Basic credentials", async () => {
        const code = await newCode();
        for (const authorization of [basic(CLIENT_ID, 'wrong'), basic('other-client', CLIENT_SECRET), basic(CLIENT_ID, ''), `Basic ${Buffer.from(CLIENT_ID).toString('base64')}`]) {
          await expectOAuthError(await exchange(code, authorization), 401, 'unauthorized_client');
        }
        // A refused client spends no code: the right one may still exchange it.
        await tokens(await exchange(code));
      });

      it('refuses a client_id in the body that names another client than the Basic credentials', async () => {
        const code = await newCode();
        const form = { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier };
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, { ...form, client_id: 'other-client' }, basic()), 400, 'invalid_request');
      });

      it('refuses a parameter given twice (RFC 6749 §3.2)', async () => {
        const code = await newCode();
        const body = `grant_type=authorization_code&code=${code.code}&code=${code.code}&redirect_uri=${encodeURIComponent(REDIRECT)}&code_verifier=${code.verifier}`;
        const res = await fetch(fake.oauth2Endpoints.tokenURL, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
          body,
        });
        await expectOAuthError(res, 400, 'invalid_request');
      });

      it('reads the Basic credentials form-decoded, as RFC 6749 §2.3.1 says, and refuses them sent raw', async () => {
        await fake.close();
        const secret = 'a b+c:d%e/é';
        fake = await startX({ ...AUTO, clientSecret: secret });
        const encoded = encodeURIComponent(secret).replace(/%20/g, '+');
        const code = await newCode();
        await expectOAuthError(await exchange(code, basic(CLIENT_ID, secret)), 401, 'unauthorized_client');
        await tokens(await exchange(code, basic(CLIENT_ID, encoded)));
      });
    });

    describe('of a public client', () => {
      beforeEach(async () => {
        fake = await startX({ ...AUTO, clientSecret: undefined });
      });

      it('knows a public client by client_id in the body, and refuses it without, with another, or with Basic credentials', async () => {
        const code = await newCode();
        const form = { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier };
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, form, null), 400, 'invalid_request');
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, { ...form, client_id: 'other' }, null), 400, 'invalid_request');
        await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, { ...form, client_id: CLIENT_ID }, basic(CLIENT_ID, 'x')), 400, 'invalid_request');
        await expectOAuthError(
          await post(fake.oauth2Endpoints.tokenURL, { ...form, client_id: CLIENT_ID, client_secret: 'x' }, null),
          401,
          'unauthorized_client',
        );
        const answer = await tokens(await post(fake.oauth2Endpoints.tokenURL, { ...form, client_id: CLIENT_ID }, null));
        expect(answer.token_type).to.equal('bearer');
      });
    });
  });

  describe('token: the refresh_token grant', () => {
    beforeEach(async () => {
      fake = await startX(AUTO);
    });

    async function signedIn(scope = SCOPE): Promise<TokenAnswer> {
      return tokens(await exchange(await newCode({ scope })));
    }

    function refresh(refreshToken: string, authorization?: string): Promise<Response> {
      return token({ grant_type: 'refresh_token', refresh_token: refreshToken }, authorization);
    }

    it('rotates: the answer carries a new refresh token, the old one stops working, and the new one works', async () => {
      const first = await signedIn();
      const second = await tokens(await refresh(first.refresh_token!));
      expect(second.refresh_token).to.be.a('string').and.not.equal(first.refresh_token);
      expect(second.access_token).not.to.equal(first.access_token);
      expect(second).to.include({ token_type: 'bearer', expires_in: 7200, scope: SCOPE });
      const description = await expectOAuthError(await refresh(first.refresh_token!), 400, 'invalid_request');
      expect(description).to.equal('Value passed for the token was invalid.');
      const third = await tokens(await refresh(second.refresh_token!));
      expect(third.refresh_token).not.to.equal(second.refresh_token);
    });

    it("gives the new access token the grant's user and scopes", async () => {
      const first = await signedIn();
      const second = await tokens(await refresh(first.refresh_token!));
      const res = await me(second.access_token);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { data: { username: string } }).data.username).to.equal('alice');
    });

    it('has no refresh token to work with without offline.access', async () => {
      const answer = await signedIn('tweet.read users.read');
      expect(answer.refresh_token).to.equal(undefined);
      await expectOAuthError(await refresh(answer.access_token), 400, 'invalid_request');
    });

    it('refuses an unknown or missing refresh token', async () => {
      await expectOAuthError(await refresh('made-up'), 400, 'invalid_request');
      await expectOAuthError(await token({ grant_type: 'refresh_token' }), 400, 'invalid_request');
    });

    it("asks a confidential client for its Basic credentials on refresh too, and spends no refresh token on a refused client", async () => {
      const first = await signedIn();
      await expectOAuthError(await post(fake.oauth2Endpoints.tokenURL, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, null), 401, 'unauthorized_client');
      await expectOAuthError(await refresh(first.refresh_token!, basic(CLIENT_ID, 'wrong')), 401, 'unauthorized_client');
      await tokens(await refresh(first.refresh_token!));
    });
  });

  describe('revoke', () => {
    beforeEach(async () => {
      fake = await startX(AUTO);
    });

    function revoke(form: Record<string, string>, authorization?: string): Promise<Response> {
      return post(fake.oauth2Endpoints.revokeURL, form, ...(authorization === undefined ? [] : [authorization]));
    }

    it('revokes an access token: users/me then answers 401', async () => {
      const answer = await tokens(await exchange(await newCode()));
      expect((await me(answer.access_token)).status).to.equal(200);
      const res = await revoke({ token: answer.access_token, token_type_hint: 'access_token' });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ revoked: true });
      expect((await me(answer.access_token)).status).to.equal(401);
    });

    it('revokes a refresh token, with or without a hint: it no longer refreshes', async () => {
      for (const hint of [{ token_type_hint: 'refresh_token' }, {}] as Record<string, string>[]) {
        const answer = await tokens(await exchange(await newCode()));
        expect(await (await revoke({ token: answer.refresh_token!, ...hint })).json()).to.deep.equal({ revoked: true });
        await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: answer.refresh_token! }), 400, 'invalid_request');
      }
    });

    it('answers 200 with revoked: false for a token it does not know', async () => {
      const res = await revoke({ token: 'made-up' });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ revoked: false });
    });

    it('asks for client authentication as the token endpoint does, and revokes nothing for a refused client', async () => {
      const answer = await tokens(await exchange(await newCode()));
      await expectOAuthError(await post(fake.oauth2Endpoints.revokeURL, { token: answer.access_token }, null), 401, 'unauthorized_client');
      await expectOAuthError(await revoke({ token: answer.access_token }, basic(CLIENT_ID, 'wrong')), 401, 'unauthorized_client');
      await expectOAuthError(await revoke({ token: answer.access_token, client_secret: CLIENT_SECRET }), 401, 'unauthorized_client');
      expect((await me(answer.access_token)).status).to.equal(200);
    });

    it('takes client_id in the body from a public client', async () => {
      await fake.close();
      fake = await startX({ ...AUTO, clientSecret: undefined });
      const code = await newCode();
      const answer = await tokens(
        await post(fake.oauth2Endpoints.tokenURL, { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier, client_id: CLIENT_ID }, null),
      );
      await expectOAuthError(await post(fake.oauth2Endpoints.revokeURL, { token: answer.access_token }, null), 400, 'invalid_request');
      const res = await post(fake.oauth2Endpoints.revokeURL, { token: answer.access_token, client_id: CLIENT_ID }, null);
      expect(await res.json()).to.deep.equal({ revoked: true });
      expect((await me(answer.access_token)).status).to.equal(401);
    });
  });

  describe('GET /2/users/me with a bearer token', () => {
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock();
      fake = await startX(AUTO, clock);
    });

    async function accessToken(scope = SCOPE): Promise<string> {
      return (await tokens(await exchange(await newCode({ scope })))).access_token;
    }

    /** X's v2 problem answer, with `status`. */
    async function expectProblem(res: Response, status: number): Promise<Record<string, unknown>> {
      expect(res.status).to.equal(status);
      expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.title).to.be.a('string');
      expect(body.detail).to.be.a('string');
      expect(body.type).to.be.a('string');
      return body;
    }

    it("answers with id, name and username of the token's user", async () => {
      const res = await me(await accessToken());
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ data: { id: ALICE.id, name: ALICE.name, username: 'alice' } });
    });

    it('answers an unknown bearer token with a 401 problem', async () => {
      expect(await expectProblem(await me('made-up'), 401)).to.include({ title: 'Unauthorized', status: 401 });
      expect(await expectProblem(await me(`${await accessToken()}x`), 401)).to.include({ title: 'Unauthorized' });
    });

    it("stops taking an access token after two hours of the fake's clock", async () => {
      const token = await accessToken();
      clock.advance(2 * 60 * 60 * 1000 - 1);
      expect((await me(token)).status).to.equal(200);
      clock.advance(1);
      await expectProblem(await me(token), 401);
    });

    it('answers 403 with a problem when the token lacks tweet.read or users.read', async () => {
      for (const scope of ['users.read', 'tweet.read', 'offline.access']) {
        const body = await expectProblem(await me(await accessToken(scope)), 403);
        expect(body.detail, scope).to.include('tweet.read users.read');
      }
      expect((await me(await accessToken('tweet.read users.read'))).status).to.equal(200);
    });

    it('refuses a user.fields value X does not know with 400, naming it', async () => {
      const token = await accessToken();
      const body = await expectProblem(await me(token, '?user.fields=name,favourite_colour'), 400);
      expect(body.title).to.equal('Invalid Request');
      expect(JSON.stringify(body.errors)).to.include('favourite_colour');
      const ok = await me(token, '?user.fields=created_at,profile_image_url,confirmed_email');
      expect(ok.status).to.equal(200);
      expect(((await ok.json()) as { data: object }).data).to.include.keys('created_at', 'profile_image_url');
    });

    it('returns confirmed_email only for a token with the users.email scope', async () => {
      const withScope = await me(await accessToken(`${SCOPE} users.email`), '?user.fields=confirmed_email');
      expect(((await withScope.json()) as { data: Record<string, unknown> }).data.confirmed_email).to.equal(ALICE.email);
      const without = await me(await accessToken(), '?user.fields=confirmed_email');
      expect(without.status).to.equal(200);
      expect(((await without.json()) as { data: Record<string, unknown> }).data).not.to.have.property('confirmed_email');
      const notAsked = await me(await accessToken(`${SCOPE} users.email`));
      expect(((await notAsked.json()) as { data: Record<string, unknown> }).data).not.to.have.property('confirmed_email');
    });
  });

  describe('faults', () => {
    beforeEach(async () => {
      fake = await startX(AUTO);
    });

    it('answers an injected status on oauth2_token, oauth2_revoke and users_me instead, before any check, counting every call', async () => {
      const answer = await tokens(await exchange(await newCode()));
      const body = '{"title":"Service Unavailable","detail":"Over capacity","type":"about:blank"}';
      fake.injectFault('oauth2_token', { status: 503, body, headers: { 'retry-after': '2' } }, { times: 1 });
      fake.injectFault('oauth2_revoke', { status: 500 }, { times: 1 });
      fake.injectFault('users_me', { status: 429, headers: { 'x-rate-limit-reset': '1893456000' } }, { times: 1 });
      const faulted = await token({});
      expect(faulted.status).to.equal(503);
      expect(faulted.headers.get('retry-after')).to.equal('2');
      expect(await faulted.text()).to.equal(body);
      expect((await post(fake.oauth2Endpoints.revokeURL, { token: answer.access_token })).status).to.equal(500);
      const limited = await me(answer.access_token);
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('x-rate-limit-reset')).to.equal('1893456000');
      // Each fault was for one call: the endpoints answer normally again.
      expect((await me(answer.access_token)).status).to.equal(200);
      expect(await (await post(fake.oauth2Endpoints.revokeURL, { token: answer.access_token })).json()).to.deep.equal({ revoked: true });
      await expectOAuthError(await token({}), 400, 'unsupported_grant_type');
      expect(fake.stats()).to.include({ oauth2Token: 3, oauth2Revoke: 2, usersMe: 2, oauth2Authorize: 1 });
    });

    it('faults the authorize page too', async () => {
      fake.injectFault('oauth2_authorize', { status: 503, body: '<html>Over capacity</html>', contentType: 'text/html' }, { times: 1 });
      const res = await authorize();
      expect(res.status).to.equal(503);
      expect(res.headers.get('location')).to.equal(null);
      expect(await res.text()).to.equal('<html>Over capacity</html>');
      callbackQuery(await authorize());
      expect(fake.stats().oauth2Authorize).to.equal(2);
    });

    it('resets the connection on oauth2_token, then answers normally', async () => {
      const code = await newCode();
      fake.injectFault('oauth2_token', { type: 'reset' }, { times: 1 });
      const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        const req = httpRequest(fake.oauth2Endpoints.tokenURL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        req.on('response', () => reject(new Error('expected no answer')));
        req.on('error', resolve);
        req.end('grant_type=refresh_token');
      });
      expect(error.code).to.equal('ECONNRESET');
      await tokens(await exchange(code));
      expect(fake.stats().oauth2Token).to.equal(2);
    });

    it('hangs users_me without answering, and keeps answering other calls', async () => {
      const answer = await tokens(await exchange(await newCode()));
      fake.injectFault('users_me', { type: 'hang' }, { times: 1 });
      let error: unknown;
      try {
        await fetch(fake.oauth2Endpoints.profileURL, { headers: { authorization: `Bearer ${answer.access_token}` }, signal: AbortSignal.timeout(300) });
      } catch (caught) {
        error = caught;
      }
      // Only the timeout's own abort is a TimeoutError: no answer (nor a reset) came in 300 ms.
      expect((error as Error).name).to.equal('TimeoutError');
      expect((await me(answer.access_token)).status).to.equal(200);
      expect(fake.stats().usersMe).to.equal(2);
    });

    it('delays oauth2_revoke, then answers normally', async () => {
      const answer = await tokens(await exchange(await newCode()));
      fake.injectFault('oauth2_revoke', { type: 'delay', ms: 200 }, { times: 1 });
      const started = Date.now();
      const res = await post(fake.oauth2Endpoints.revokeURL, { token: answer.access_token });
      expect(Date.now() - started).to.be.at.least(190);
      expect(await res.json()).to.deep.equal({ revoked: true });
    });

    it('counts refused calls too', async () => {
      await expectOAuthError(await token({}, basic(CLIENT_ID, 'wrong')), 401, 'unauthorized_client');
      await expectOAuthError(await post(fake.oauth2Endpoints.revokeURL, { token: 'x' }, null), 401, 'unauthorized_client');
      expect((await me('made-up')).status).to.equal(401);
      await expectErrorPage(await authorize({ client_id: 'other' }));
      expect(fake.stats()).to.include({ oauth2Token: 1, oauth2Revoke: 1, usersMe: 1, oauth2Authorize: 1 });
    });
  });

  describe('stats().pendingAuthorizations', () => {
    it('counts authorize requests awaiting a decision and codes awaiting exchange, until exchanged, cancelled or expired', async () => {
      const clock = new ManualClock();
      fake = await startX({}, clock);
      expect(fake.stats().pendingAuthorizations).to.equal(0);
      const browser = new Browser();
      const verifier = newVerifier();
      const first = authorizationId(await (await browser.get(authorizeURL({}, verifier))).text());
      const second = authorizationId(await (await browser.get(authorizeURL())).text());
      expect(fake.stats().pendingAuthorizations).to.equal(2);
      // Cancel closes a request.
      await browser.submit(`${fake.url}${DECIDE}`, { authorization: second, decision: 'cancel' });
      expect(fake.stats().pendingAuthorizations).to.equal(1);
      // Allow turns the request into a code: still one pending, until it is exchanged.
      const allowed = await browser.submit(`${fake.url}${DECIDE}`, { authorization: first, username: 'alice', password: ALICE.password, decision: 'allow' });
      expect(fake.stats().pendingAuthorizations).to.equal(1);
      await tokens(await exchange({ code: callbackQuery(allowed).get('code')!, verifier, redirectURI: REDIRECT }));
      expect(fake.stats().pendingAuthorizations).to.equal(0);
      // A code no one exchanges stops counting when it expires.
      const unused = authorizationId(await (await browser.get(authorizeURL())).text());
      await browser.submit(`${fake.url}${DECIDE}`, { authorization: unused, decision: 'allow' });
      expect(fake.stats().pendingAuthorizations).to.equal(1);
      clock.advance(30_000);
      expect(fake.stats().pendingAuthorizations).to.equal(0);
    });
  });
});
