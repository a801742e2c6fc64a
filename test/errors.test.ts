import { expect } from 'chai';
import { parseProviderError, TwitterSignInError } from '../lib/errors.js';

describe('errors', () => {
  describe('parseProviderError', () => {
    it("reads Twitter's JSON error list", () => {
      expect(parseProviderError('{"errors":[{"code":89,"message":"Invalid or expired token."}]}')).to.deep.equal({
        code: 89,
        message: 'Invalid or expired token.',
      });
    });

    it("reads Twitter's XML error (unapproved callback URL)", () => {
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?><errors><error code="415">Callback URL not approved for this client application.</error></errors>';
      expect(parseProviderError(xml)).to.deep.equal({ code: 415, message: 'Callback URL not approved for this client application.' });
    });

    it('reads a single {"error": …} body and an API v2 problem {"detail": …}', () => {
      expect(parseProviderError('{"error":"Could not authenticate you."}')).to.deep.equal({ message: 'Could not authenticate you.' });
      expect(parseProviderError('{"title":"Forbidden","detail":"client-not-enrolled"}')).to.deep.equal({ message: 'client-not-enrolled' });
    });

    it("reads OAuth 2.0's error and error_description (RFC 6749 §5.2), before X's errors array beside them", () => {
      expect(
        parseProviderError('{"error":"invalid_request","error_description":"Value passed for the authorization code was invalid.","errors":[{"code":1}]}'),
      ).to.deep.equal({ error: 'invalid_request', message: 'Value passed for the authorization code was invalid.' });
      expect(parseProviderError('{"error":"unauthorized_client"}')).to.deep.equal({ error: 'unauthorized_client' });
    });

    it("names an API v2 problem by its reason, or else its type's last segment, with detail as the message", () => {
      expect(
        parseProviderError(
          '{"title":"Client Forbidden","detail":"Attach the app to a project.","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}',
        ),
      ).to.deep.equal({ error: 'client-not-enrolled', message: 'Attach the app to a project.' });
      expect(parseProviderError('{"title":"Unsupported Authentication","detail":"no","type":"https://api.x.com/2/problems/unsupported-authentication"}')).to.deep.equal({
        error: 'unsupported-authentication',
        message: 'no',
      });
      expect(parseProviderError('{"title":"Too Many Requests","type":"about:blank","status":429,"detail":"Too Many Requests"}')).to.deep.equal({
        message: 'Too Many Requests',
      });
    });

    it('says nothing about HTML pages, empty bodies, broken JSON or JSON without a message', () => {
      for (const body of ['<html><body>Over capacity</body></html>', '', '{"errors":', '{"ok":true}', '[1,2]']) {
        expect(parseProviderError(body), body).to.deep.equal({});
      }
    });

    it('clips a provider message to 300 characters', () => {
      const long = 'x'.repeat(10_000);
      expect(parseProviderError(`{"errors":[{"code":1,"message":"${long}"}]}`).message).to.have.length(301);
    });
  });

  describe('TwitterSignInError', () => {
    it("carries name, code, the app's status, Twitter's status, endpoint, provider fields and cause", () => {
      const cause = new Error('socket hang up');
      const err = new TwitterSignInError('ERR_TWITTER_HTTP', 'refused', {
        providerStatus: 401,
        endpoint: 'access_token',
        providerCode: 89,
        providerMessage: 'Invalid or expired token.',
        cause,
      });
      expect(err).to.be.instanceOf(Error);
      expect(err.name).to.equal('TwitterSignInError');
      expect(String(err)).to.equal('TwitterSignInError: refused');
      expect(err).to.include({ code: 'ERR_TWITTER_HTTP', status: 502, providerStatus: 401, endpoint: 'access_token', providerCode: 89 });
      expect(err.cause).to.equal(cause);
    });

    it('answers 502 for a refusal or breakdown at Twitter, 504 for a timeout, 503 for a rate limit, 500 for the app itself', () => {
      const statuses = Object.fromEntries(
        (['ERR_TWITTER_HTTP', 'ERR_TWITTER_NETWORK', 'ERR_TWITTER_RESPONSE', 'ERR_TWITTER_TIMEOUT', 'ERR_TWITTER_RATE_LIMITED', 'ERR_STORE', 'ERR_SESSION_REQUIRED'] as const).map(
          (code) => [code, new TwitterSignInError(code, 'x', { providerStatus: 401 }).status],
        ),
      );
      expect(statuses).to.deep.equal({
        ERR_TWITTER_HTTP: 502,
        ERR_TWITTER_NETWORK: 502,
        ERR_TWITTER_RESPONSE: 502,
        ERR_TWITTER_TIMEOUT: 504,
        ERR_TWITTER_RATE_LIMITED: 503,
        ERR_STORE: 500,
        ERR_SESSION_REQUIRED: 500,
      });
    });

    it('has only the fields it was given: no undefined ones to log or to find with `in`', () => {
      const err = new TwitterSignInError('ERR_TWITTER_TIMEOUT', 'slow', { endpoint: 'token' });
      expect(Object.keys(err).sort()).to.deep.equal(['code', 'endpoint', 'name', 'status']);
      expect('rateLimitReset' in err).to.equal(false);
      expect('providerStatus' in err).to.equal(false);
    });

    it('keeps the raw body non-enumerable, so logging the error does not print it', () => {
      const err = new TwitterSignInError('ERR_TWITTER_HTTP', 'refused', { body: '<html>big page</html>' });
      expect(err.body).to.equal('<html>big page</html>');
      expect(JSON.stringify(err)).not.to.include('big page');
      expect(Object.keys(err)).not.to.include('body');
    });
  });
});
