import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  MalformedRequestError,
  baseStringURI,
  hmacSha1Signature,
  parseAuthorizationHeader,
  parseFormEncoded,
  percentEncode,
  safeEqual,
  signatureBaseString,
  verifyHmacSha1,
  type Param,
} from '../../lib/testing/signature.js';

interface Vector {
  name: string;
  method: string;
  url: string;
  consumerSecret: string;
  tokenSecret: string;
  oauthParams: Record<string, string>;
  queryParams: Record<string, string>;
  bodyParams: Record<string, string>;
  expectedBaseString: string | null;
  expectedSignature: string | null;
  computedSignature?: string;
}

const { vectors } = JSON.parse(
  readFileSync(new URL('../fixtures/rfc5849.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] };

function paramsOf(vector: Vector): Param[] {
  return [vector.oauthParams, vector.queryParams, vector.bodyParams].flatMap((group) => Object.entries(group));
}

describe('signature', () => {
  describe('RFC 5849 vectors', () => {
    it('covers every vector in the shared file', () => {
      expect(vectors).to.have.length.greaterThan(0);
      for (const vector of vectors) {
        expect(vector.expectedBaseString ?? vector.expectedSignature ?? vector.computedSignature, vector.name).to.be.a('string');
      }
    });

    for (const vector of vectors) {
      const signature = vector.expectedSignature ?? vector.computedSignature;

      if (vector.expectedBaseString !== null) {
        it(`builds the published base string byte for byte (${vector.name})`, () => {
          expect(signatureBaseString(vector.method, vector.url, paramsOf(vector))).to.equal(vector.expectedBaseString);
        });
      }

      if (signature !== undefined && signature !== null) {
        it(`verifies the signature ${signature} (${vector.name})`, () => {
          const baseString = signatureBaseString(vector.method, vector.url, paramsOf(vector));
          expect(hmacSha1Signature(baseString, vector.consumerSecret, vector.tokenSecret)).to.equal(signature);
          expect(verifyHmacSha1(baseString, vector.consumerSecret, vector.tokenSecret, signature)).to.equal(true);
        });

        it(`refuses a tampered signature (${vector.name})`, () => {
          const baseString = signatureBaseString(vector.method, vector.url, paramsOf(vector));
          const tampered = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
          expect(verifyHmacSha1(baseString, vector.consumerSecret, vector.tokenSecret, tampered)).to.equal(false);
          expect(verifyHmacSha1(baseString, vector.consumerSecret, 'wrong-token-secret', signature)).to.equal(false);
        });
      }
    }
  });

  describe("Twitter's documented request_token example", () => {
    // https://developer.twitter.com/en/docs/authentication/guides/log-in-with-twitter, step 1.
    it('reproduces the published signature F1Li3tvehgcraF8DMJ7OyxO4w9Y=', () => {
      const baseString = signatureBaseString('POST', 'https://api.twitter.com/oauth/request_token', [
        ['oauth_callback', 'http://localhost/sign-in-with-twitter/'],
        ['oauth_consumer_key', 'cChZNFj6T5R0TigYB9yd1w'],
        ['oauth_nonce', 'ea9ec8429b68d6b77cd5600adbbb0456'],
        ['oauth_signature_method', 'HMAC-SHA1'],
        ['oauth_timestamp', '1318467427'],
        ['oauth_version', '1.0'],
      ]);
      expect(hmacSha1Signature(baseString, 'L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg', '')).to.equal(
        'F1Li3tvehgcraF8DMJ7OyxO4w9Y=',
      );
    });
  });

  describe('signatureBaseString', () => {
    it('sorts repeated names by value and upper-cases the method', () => {
      expect(signatureBaseString('get', 'http://x.test/p', [['b', '2'], ['a', 'z'], ['a', 'y']])).to.equal(
        'GET&http%3A%2F%2Fx.test%2Fp&a%3Dy%26a%3Dz%26b%3D2',
      );
    });
  });

  describe('percentEncode', () => {
    it("encodes the characters encodeURIComponent leaves alone (!'()*) and keeps unreserved ones", () => {
      expect(percentEncode("!'()*")).to.equal('%21%27%28%29%2A');
      expect(percentEncode('Az09-._~')).to.equal('Az09-._~');
      expect(percentEncode('é ')).to.equal('%C3%A9%20');
    });
  });

  describe('parseFormEncoded', () => {
    it('decodes + as a space and keeps names without = as empty values', () => {
      expect(parseFormEncoded('a2=r+b&c2&b5=%3D%253D&&')).to.deep.equal([
        ['a2', 'r b'],
        ['c2', ''],
        ['b5', '=%3D'],
      ]);
    });

    it('refuses bad percent-encoding instead of guessing', () => {
      expect(() => parseFormEncoded('a=%zz')).to.throw(MalformedRequestError);
      expect(() => parseFormEncoded('a=%')).to.throw(MalformedRequestError);
      expect(() => parseFormEncoded('a=%C3')).to.throw(MalformedRequestError);
    });
  });

  describe('parseAuthorizationHeader', () => {
    it('parses the RFC 5849 §3.5.1 example, realm included, values decoded', () => {
      expect(
        parseAuthorizationHeader(
          'OAuth realm="Example",\n oauth_consumer_key="0685bd9184jfhq22", oauth_signature="wOJIO9A2W5mFwDgiDvZbTSMK%2FPY%3D"',
        ),
      ).to.deep.equal([
        ['realm', 'Example'],
        ['oauth_consumer_key', '0685bd9184jfhq22'],
        ['oauth_signature', 'wOJIO9A2W5mFwDgiDvZbTSMK/PY='],
      ]);
    });

    it('matches the scheme case-insensitively and ignores other schemes', () => {
      expect(parseAuthorizationHeader('oauth a="1"')).to.deep.equal([['a', '1']]);
      expect(parseAuthorizationHeader('Bearer abc')).to.equal(undefined);
      expect(parseAuthorizationHeader('OAuthentic a="1"')).to.equal(undefined);
    });

    it('accepts an empty list and a trailing comma', () => {
      expect(parseAuthorizationHeader('OAuth')).to.deep.equal([]);
      expect(parseAuthorizationHeader('OAuth a="1", ')).to.deep.equal([['a', '1']]);
    });

    it('keeps + literal: the header is percent-encoded, not form-encoded', () => {
      expect(parseAuthorizationHeader('OAuth a="x+y"')).to.deep.equal([['a', 'x+y']]);
    });

    it('refuses unquoted values, missing commas and bad percent-encoding', () => {
      expect(() => parseAuthorizationHeader('OAuth a=1')).to.throw(MalformedRequestError);
      expect(() => parseAuthorizationHeader('OAuth a="1" b="2"')).to.throw(MalformedRequestError);
      expect(() => parseAuthorizationHeader('OAuth a="%zz"')).to.throw(MalformedRequestError);
    });
  });

  describe('baseStringURI', () => {
    it('lower-cases the host and drops the default port only', () => {
      expect(baseStringURI('http', 'EXAMPLE.com:80', '/r%20v/X')).to.equal('http://example.com/r%20v/X');
      expect(baseStringURI('https', 'www.example.net:8080', '/')).to.equal('https://www.example.net:8080/');
      expect(baseStringURI('https', 'example.net:443', '/a')).to.equal('https://example.net/a');
      expect(baseStringURI('http', '127.0.0.1:4000', '/a')).to.equal('http://127.0.0.1:4000/a');
    });

    it('refuses a Host header that is not a host', () => {
      expect(() => baseStringURI('http', 'evil.test/path', '/a')).to.throw(MalformedRequestError);
      expect(() => baseStringURI('http', 'user@host', '/a')).to.throw(MalformedRequestError);
    });
  });

  describe('safeEqual', () => {
    it('tells equal from different strings, including different lengths', () => {
      expect(safeEqual('abc', 'abc')).to.equal(true);
      expect(safeEqual('abc', 'abd')).to.equal(false);
      expect(safeEqual('abc', 'abcd')).to.equal(false);
    });
  });
});
