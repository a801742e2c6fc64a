/**
 * Apps that mock Twitter in their own tests with an HTTP mocking library (nock here; msw works
 * the same way) must keep seeing the client's calls, although by default the client does not go
 * through node's `http.request`.
 */
import http from 'node:http';
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
  });
});
