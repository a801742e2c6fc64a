/**
 * Apps that mock Twitter in their own tests with an HTTP mocking library (nock here; msw works
 * the same way) must keep seeing the client's calls, although by default the client does not go
 * through node's `http.request`.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TwitterOAuthClient } from '../../lib/index.js';
import { nodeRequestReplaced } from '../../lib/transport/node-http.js';
import { nock, useNock } from '../helpers/nock.js';

describe('NodeHttpTransport', () => {
  describe('nodeRequestReplaced', () => {
    it("is false while node's http.request and https.request are node's own", () => {
      expect(nodeRequestReplaced(false)).to.equal(false);
      expect(nodeRequestReplaced(true)).to.equal(false);
    });

    it('is true while a stub replaces http.request', () => {
      const original = http.request;
      http.request = ((...args: Parameters<typeof http.request>) => original(...args)) as typeof http.request;
      try {
        expect(nodeRequestReplaced(false)).to.equal(true);
        expect(nodeRequestReplaced(true)).to.equal(false);
      } finally {
        http.request = original;
      }
      expect(nodeRequestReplaced(false)).to.equal(false);
    });
  });

  it('sees a plain function that replaced http.request before this package loaded', () => {
    // Older nock, sinon and APM agents replace http.request with their own function, often
    // before the app imports anything else; identity with what was there at load proves nothing.
    const lib = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));
    const script = `
      import http from 'node:http';
      let seen = 0;
      const original = http.request;
      http.request = function (...args) { seen += 1; return original.apply(this, args); };
      const { TwitterOAuthClient } = await import(${JSON.stringify(lib)});
      const server = http.createServer((req, res) => req.resume().on('end', () =>
        res.end('oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true')));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const url = 'http://127.0.0.1:' + server.address().port;
      const client = new TwitterOAuthClient({ consumerKey: 'ck', consumerSecret: 'cs',
        requestTokenURL: url + '/oauth/request_token' });
      const token = await client.getRequestToken({ callbackURL: 'oob' });
      client.destroy();
      server.close();
      console.log(JSON.stringify({ token: token.token, seen }));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout.trim())).to.deep.equal({ token: 't', seen: 1 });
  });

  it("judges http and https apart: node's own http.request put in https.request is a replacement", () => {
    const original = https.request;
    https.request = http.request as unknown as typeof https.request;
    try {
      expect(nodeRequestReplaced(false)).to.equal(false);
      expect(nodeRequestReplaced(true)).to.equal(true);
    } finally {
      https.request = original;
    }
    expect(nodeRequestReplaced(true)).to.equal(false);
  });

  it("keeps the verifier and the signature out of a cause whose message lists the request (as nock 13's does)", async () => {
    const original = http.request;
    // A mocking library's refusal, thrown with the request's headers in its message.
    http.request = ((options: http.RequestOptions) => {
      const headers = JSON.stringify(options.headers);
      throw Object.assign(new Error(`No match for request ${headers}`), { code: 'ERR_NOCK_NO_MATCH' });
    }) as unknown as typeof http.request;
    const client = new TwitterOAuthClient({ consumerKey: 'ck', consumerSecret: 'consumer-secret-value', accessTokenURL: 'http://twitter.test/oauth/access_token' });
    let err: (Error & { cause?: unknown }) | undefined;
    try {
      await client.getAccessToken({ token: 't', tokenSecret: 'token-secret-value', verifier: 'verifier-value' });
    } catch (caught) {
      err = caught as typeof err;
    } finally {
      http.request = original;
      client.destroy();
    }
    const cause = err!.cause as Error & { code?: string };
    expect(cause.code).to.equal('ERR_NOCK_NO_MATCH');
    expect(cause.message).to.include('No match for request').and.to.include('oauth_verifier');
    const text = [err!.message, String(err), JSON.stringify(err), String(cause), cause.message, err!.stack ?? ''].join('\n');
    for (const secret of ['consumer-secret-value', 'token-secret-value', 'verifier-value', 'oauth_signature\\":\\"']) {
      expect(text).not.to.include(secret);
    }
    expect(cause.message).not.to.match(/oauth_signature=\\?"[A-Za-z0-9%]/);
  });

  describe('with nock active', () => {
    useNock();

    it('sees nock (which wraps http.request in a Proxy)', () => {
      expect(nodeRequestReplaced(false)).to.equal(true);
      expect(nodeRequestReplaced(true)).to.equal(true);
    });

    it("sends the client's calls where nock intercepts them, on http and https", async () => {
      for (const origin of ['https://api.twitter.com', 'http://twitter.test']) {
        const scope = nock(origin)
          .post('/oauth/request_token')
          .reply(200, 'oauth_token=mocked&oauth_token_secret=s&oauth_callback_confirmed=true');
        const client = new TwitterOAuthClient({
          consumerKey: 'ck',
          consumerSecret: 'cs',
          requestTokenURL: `${origin}/oauth/request_token`,
        });
        expect((await client.getRequestToken({ callbackURL: 'oob' })).token).to.equal('mocked');
        scope.done();
        client.destroy();
      }
    });

    it('keeps the verifier and the signature out of the error when nock has no match', async () => {
      nock('https://api.twitter.com').post('/oauth/request_token').reply(200, 'unused');
      const client = new TwitterOAuthClient({ consumerKey: 'ck', consumerSecret: 'consumer-secret-value' });
      let err: (Error & { body?: string; cause?: unknown }) | undefined;
      try {
        await client.getAccessToken({ token: 't', tokenSecret: 'token-secret-value', verifier: 'verifier-value' });
      } catch (caught) {
        err = caught as typeof err;
      }
      client.destroy();
      expect(err, 'the unmatched call fails').to.be.instanceOf(Error);
      const text = [err!.message, String(err), JSON.stringify(err), String(err!.cause ?? ''), err!.stack ?? '', err!.body ?? ''].join('\n');
      for (const secret of ['consumer-secret-value', 'token-secret-value', 'verifier-value', 'oauth_signature="']) {
        expect(text).not.to.include(secret);
      }
    });
  });
});
