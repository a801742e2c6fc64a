import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import type { FakeTwitter } from '../../lib/testing/index.js';
import { CALLBACK, Signer, signedFetch, startFake, twitterError } from './helpers.js';

describe('injected faults', () => {
  let fake: FakeTwitter;
  beforeEach(async () => {
    fake = await startFake({ autoApprove: { id: '7', screen_name: 'grace' } });
  });
  afterEach(() => fake.close());

  function requestToken(): Promise<Response> {
    return signedFetch(new Signer(fake), { url: fake.requestTokenURL, oauth: { oauth_callback: CALLBACK } });
  }

  describe('{ status }', () => {
    it('answers the given status, body and headers instead, with a JSON content type by default', async () => {
      const body = '{"errors":[{"code":130,"message":"Over capacity"}]}';
      fake.injectFault('request_token', { status: 503, body, headers: { 'retry-after': '2' } });
      const res = await requestToken();
      expect(res.status).to.equal(503);
      expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      expect(res.headers.get('retry-after')).to.equal('2');
      expect(await res.text()).to.equal(body);
    });

    it('uses the given content type', async () => {
      fake.injectFault('request_token', { status: 500, body: '<html>oops</html>', contentType: 'text/html' });
      const res = await requestToken();
      expect(res.headers.get('content-type')).to.equal('text/html');
      expect(await res.text()).to.equal('<html>oops</html>');
    });

    it('applies before normal processing: even an unsigned request gets it', async () => {
      fake.injectFault('access_token', { status: 429 });
      expect((await fetch(fake.accessTokenURL, { method: 'POST' })).status).to.equal(429);
    });

    it('lasts until clearFaults() when no count is given, counting every call in stats', async () => {
      fake.injectFault('request_token', { status: 502 });
      expect((await requestToken()).status).to.equal(502);
      expect((await requestToken()).status).to.equal(502);
      fake.clearFaults();
      expect((await requestToken()).status).to.equal(200);
      expect(fake.stats().requestToken).to.equal(3);
    });

    it('applies to the next `times` calls only', async () => {
      fake.injectFault('request_token', { status: 503 }, { times: 2 });
      expect((await requestToken()).status).to.equal(503);
      expect((await requestToken()).status).to.equal(503);
      expect((await requestToken()).status).to.equal(200);
    });

    it('applies to the named endpoint only', async () => {
      fake.injectFault('access_token', { status: 503 });
      expect((await requestToken()).status).to.equal(200);
    });

    it('applies to the profile endpoints', async () => {
      fake.injectFault('users_me', { status: 429 });
      fake.injectFault('verify_credentials', { status: 401, body: '{"errors":[{"code":89,"message":"Invalid or expired token."}]}' });
      expect((await fetch(`${fake.url}/2/users/me`)).status).to.equal(429);
      const res = await fetch(`${fake.url}/1.1/account/verify_credentials.json`);
      expect((await twitterError(res)).code).to.equal(89);
      expect(fake.stats()).to.include({ usersMe: 1, verifyCredentials: 1 });
    });
  });

  describe("{ type: 'reset' }", () => {
    it('resets the connection without answering', async () => {
      fake.injectFault('request_token', { type: 'reset' }, { times: 1 });
      const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        const req = httpRequest(fake.requestTokenURL, { method: 'POST' });
        req.on('response', () => reject(new Error('expected no answer')));
        req.on('error', resolve);
        req.end();
      });
      expect(error.code).to.equal('ECONNRESET');
      expect(fake.stats().requestToken).to.equal(1);
      expect((await requestToken()).status).to.equal(200);
    });
  });

  describe("{ type: 'hang' }", () => {
    it('never answers', async () => {
      fake.injectFault('access_token', { type: 'hang' });
      let error: unknown;
      try {
        await fetch(fake.accessTokenURL, { method: 'POST', signal: AbortSignal.timeout(300) });
      } catch (caught) {
        error = caught;
      }
      // Only the timeout's own abort is a TimeoutError: no answer (nor a reset) came in 300 ms.
      // (Not also checked with Date.now: a timer set late in a busy event-loop turn counts from
      // the turn's start, so by Date.now it may fire early by as long as the turn ran.)
      expect((error as Error).name).to.equal('TimeoutError');
      expect(fake.stats().accessToken).to.equal(1);
      // The fault hangs that request only; the fake keeps answering others.
      expect((await requestToken()).status).to.equal(200);
    });
  });

  describe("{ type: 'delay' }", () => {
    it('answers normally after the delay', async () => {
      fake.injectFault('request_token', { type: 'delay', ms: 200 });
      const started = Date.now();
      const res = await requestToken();
      expect(Date.now() - started).to.be.at.least(190);
      expect(res.status).to.equal(200);
    });
  });

  describe('injectFault', () => {
    it('refuses an unknown endpoint, a bad status, a bad count and an unknown fault type', () => {
      expect(() => fake.injectFault('oauth/token' as never, { status: 500 })).to.throw(TypeError, /endpoint/);
      expect(() => fake.injectFault('request_token', { status: 99 })).to.throw(TypeError, /status/);
      expect(() => fake.injectFault('request_token', { status: 500 }, { times: 0 })).to.throw(TypeError, /times/);
      expect(() => fake.injectFault('request_token', { type: 'explode' } as never)).to.throw(TypeError, /fault/);
      expect(() => fake.injectFault('request_token', { type: 'delay', ms: -1 })).to.throw(TypeError, /ms/);
    });
  });
});
