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
    it('carries name, code, status, endpoint, provider fields and cause', () => {
      const cause = new Error('socket hang up');
      const err = new TwitterSignInError('ERR_TWITTER_HTTP', 'refused', {
        status: 401,
        endpoint: 'access_token',
        providerCode: 89,
        providerMessage: 'Invalid or expired token.',
        cause,
      });
      expect(err).to.be.instanceOf(Error);
      expect(err.name).to.equal('TwitterSignInError');
      expect(String(err)).to.equal('TwitterSignInError: refused');
      expect(err).to.include({ code: 'ERR_TWITTER_HTTP', status: 401, endpoint: 'access_token', providerCode: 89 });
      expect(err.cause).to.equal(cause);
    });

    it('keeps the raw body non-enumerable, so logging the error does not print it', () => {
      const err = new TwitterSignInError('ERR_TWITTER_HTTP', 'refused', { body: '<html>big page</html>' });
      expect(err.body).to.equal('<html>big page</html>');
      expect(JSON.stringify(err)).not.to.include('big page');
      expect(Object.keys(err)).not.to.include('body');
    });
  });
});
