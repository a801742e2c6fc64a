import { expect } from 'chai';
import { appendQuery, formEncode } from '../../lib/testing/http.js';

describe('http', () => {
  describe('appendQuery', () => {
    it("keeps the callback's own query byte for byte and puts the fragment last", () => {
      expect(appendQuery('http://a.test/cb?x=a%20b+c#frag', [['oauth_token', 't']])).to.equal(
        'http://a.test/cb?x=a%20b+c&oauth_token=t#frag',
      );
    });

    it('starts a query when there is none, and does not double a trailing separator', () => {
      expect(appendQuery('http://a.test/cb', [['denied', 't']])).to.equal('http://a.test/cb?denied=t');
      expect(appendQuery('http://a.test/cb?', [['denied', 't']])).to.equal('http://a.test/cb?denied=t');
      expect(appendQuery('http://a.test/cb?x=1&', [['denied', 't']])).to.equal('http://a.test/cb?x=1&denied=t');
    });
  });

  describe('formEncode', () => {
    it('encodes names and values as RFC 5849 §3.6 does', () => {
      expect(formEncode([['screen_name', "o'brien *"], ['a', '']])).to.equal('screen_name=o%27brien%20%2A&a=');
    });
  });
});
