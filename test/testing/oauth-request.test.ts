import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import type { FakeTwitter } from '../../lib/testing/index.js';
import { CALLBACK, ManualClock, Signer, signedFetch, startFake, twitterError } from './helpers.js';

describe('signed requests', () => {
  let fake: FakeTwitter;
  // The fake checks oauth_timestamp against this clock, which stands still: a timestamp 301 s
  // ahead stays more than 300 s ahead however long the request takes to arrive.
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    fake = await startFake({}, clock);
  });
  afterEach(() => fake.close());

  function requestToken(signer: Signer, extra: Partial<Parameters<typeof signedFetch>[1]> = {}): Promise<Response> {
    return signedFetch(signer, { url: fake.requestTokenURL, oauth: { oauth_callback: CALLBACK }, ...extra });
  }

  async function expectError(res: Response, status: number, code: number): Promise<void> {
    expect(res.status).to.equal(status);
    expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
    expect((await twitterError(res)).code).to.equal(code);
  }

  it('accepts a request signed with the right consumer key and secret', async () => {
    const res = await requestToken(new Signer(fake));
    expect(res.status).to.equal(200);
  });

  it('refuses a wrong consumer key with 401 code 32', async () => {
    await expectError(await requestToken(new Signer(fake, { consumerKey: 'someone-else' })), 401, 32);
  });

  it('refuses a signature made with the wrong consumer secret with 401 code 32', async () => {
    const res = await requestToken(new Signer(fake, { consumerSecret: 'wrong-secret' }));
    expect(res.status).to.equal(401);
    expect(await res.json()).to.deep.equal({ errors: [{ code: 32, message: 'Could not authenticate you.' }] });
  });

  it('refuses a tampered oauth_signature with 401 code 32', async () => {
    await expectError(await requestToken(new Signer(fake), { override: { oauth_signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } }), 401, 32);
  });

  it('refuses a signature method other than HMAC-SHA1 with 401 code 32', async () => {
    await expectError(await requestToken(new Signer(fake, { signatureMethod: 'PLAINTEXT' })), 401, 32);
  });

  it('refuses an oauth_version other than 1.0 with 401 code 32', async () => {
    await expectError(await requestToken(new Signer(fake, { version: '1.0a' })), 401, 32);
  });

  it('accepts a request without oauth_version (RFC 5849 §3.1: optional)', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParamsWithout('oauth_version', 'POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    expect(params.map(([n]) => n)).not.to.include('oauth_version');
    const res = await fetch(fake.requestTokenURL, { method: 'POST', headers: { authorization: signer.authorizationHeader(params) } });
    expect(res.status).to.equal(200);
  });

  it('refuses a timestamp more than 300 s in the past with 401 code 135', async () => {
    const signer = new Signer(fake);
    signer.timestamp = clock.now() / 1000 - 301;
    const res = await requestToken(signer);
    expect(res.status).to.equal(401);
    expect(await res.json()).to.deep.equal({ errors: [{ code: 135, message: 'Timestamp out of bounds.' }] });
  });

  it('refuses a timestamp more than 300 s in the future with 401 code 135', async () => {
    const signer = new Signer(fake);
    signer.timestamp = clock.now() / 1000 + 301;
    await expectError(await requestToken(signer), 401, 135);
  });

  it('accepts a timestamp 250 s off', async () => {
    const signer = new Signer(fake);
    signer.timestamp = clock.now() / 1000 - 250;
    expect((await requestToken(signer)).status).to.equal(200);
  });

  it('accepts a timestamp exactly 300 s off, either way', async () => {
    for (const offset of [-300, 300]) {
      const signer = new Signer(fake);
      signer.timestamp = clock.now() / 1000 + offset;
      expect((await requestToken(signer)).status).to.equal(200);
    }
  });

  it('refuses a reused nonce with 401 code 32', async () => {
    const signer = new Signer(fake);
    signer.nonce = 'the-same-nonce-twice';
    expect((await requestToken(signer)).status).to.equal(200);
    await expectError(await requestToken(signer), 401, 32);
  });

  it('does not let a forged request use up a nonce', async () => {
    const forger = new Signer(fake, { consumerSecret: 'guess' });
    forger.nonce = 'nonce-of-the-real-client';
    await expectError(await requestToken(forger), 401, 32);
    const client = new Signer(fake);
    client.nonce = 'nonce-of-the-real-client';
    expect((await requestToken(client)).status).to.equal(200);
  });

  it('accepts the protocol parameters in the query string (RFC 5849 §3.5.3)', async () => {
    expect((await requestToken(new Signer(fake), { placement: 'query' })).status).to.equal(200);
  });

  it('accepts the protocol parameters in the form body (RFC 5849 §3.5.2)', async () => {
    expect((await requestToken(new Signer(fake), { placement: 'body' })).status).to.equal(200);
  });

  it('signs form body parameters: changing one after signing gives 401 code 32', async () => {
    const signer = new Signer(fake);
    expect((await requestToken(signer, { body: { x_auth_access_type: 'read' } })).status).to.equal(200);
    const res = await requestToken(signer, { body: { x_auth_access_type: 'read' }, sentBody: { x_auth_access_type: 'write' } });
    await expectError(res, 401, 32);
  });

  it('signs query parameters: changing one after signing gives 401 code 32', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', `${fake.requestTokenURL}?x_auth_access_type=read`, { oauth_callback: CALLBACK });
    const res = await fetch(`${fake.requestTokenURL}?x_auth_access_type=write`, {
      method: 'POST',
      headers: { authorization: signer.authorizationHeader(params) },
    });
    await expectError(res, 401, 32);
  });

  it('does not sign a body that is not form-encoded', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    const res = await fetch(fake.requestTokenURL, {
      method: 'POST',
      headers: { authorization: signer.authorizationHeader(params), 'content-type': 'application/json' },
      body: '{"x_auth_access_type":"write"}',
    });
    expect(res.status).to.equal(200);
  });

  it('ignores realm in the Authorization header (RFC 5849 §3.4.1.3.1)', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    const res = await fetch(fake.requestTokenURL, {
      method: 'POST',
      headers: { authorization: signer.authorizationHeader(params).replace('OAuth ', 'OAuth realm="Twitter", ') },
    });
    expect(res.status).to.equal(200);
  });

  it('refuses a protocol parameter sent twice with 400 code 215 (RFC 5849 §3.2)', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    const res = await fetch(`${fake.requestTokenURL}?oauth_nonce=another`, {
      method: 'POST',
      headers: { authorization: signer.authorizationHeader(params) },
    });
    await expectError(res, 400, 215);
  });

  it('refuses a request without OAuth parameters with 400 code 215', async () => {
    await expectError(await fetch(fake.requestTokenURL, { method: 'POST' }), 400, 215);
  });

  it('refuses a request without a nonce with 400 code 215', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    const res = await fetch(fake.requestTokenURL, {
      method: 'POST',
      headers: { authorization: signer.authorizationHeader(params.filter(([n]) => n !== 'oauth_nonce')) },
    });
    await expectError(res, 400, 215);
  });

  it('refuses a malformed Authorization header with 400 code 215', async () => {
    const res = await fetch(fake.requestTokenURL, {
      method: 'POST',
      headers: { authorization: 'OAuth oauth_consumer_key=unquoted, oauth_nonce="x' },
    });
    await expectError(res, 400, 215);
  });

  it('refuses bad percent-encoding in the query with 400', async () => {
    await expectError(await fetch(`${fake.requestTokenURL}?a=%zz`, { method: 'POST' }), 400, 215);
  });

  it('refuses bad percent-encoding in a form body with 400', async () => {
    const res = await fetch(fake.requestTokenURL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=%E0%A4%A',
    });
    await expectError(res, 400, 215);
  });

  it('refuses a Host header that is not a host with 400 code 215', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(fake.requestTokenURL, {
        method: 'POST',
        headers: { host: 'evil.test/x?', authorization: signer.authorizationHeader(params) },
      });
      req.on('response', (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).to.equal(400);
    expect(JSON.parse(res.body)).to.deep.equal({ errors: [{ code: 215, message: 'Bad Authentication data.' }] });
  });

  it('builds the base string URI from the Host header: a request signed for another host fails', async () => {
    const signer = new Signer(fake);
    const params = signer.protocolParams('POST', fake.requestTokenURL, { oauth_callback: CALLBACK });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(fake.requestTokenURL, {
        method: 'POST',
        headers: { host: 'api.twitter.com', authorization: signer.authorizationHeader(params) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).to.equal(401);
  });
});
