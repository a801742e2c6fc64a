import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { codeChallengeS256, createPKCE, createState } from '../lib/pkce.js';

// RFC 7636 §4.1: a verifier is 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
const UNRESERVED = /^[A-Za-z0-9._~-]+$/;
// base64url without padding (RFC 4648 §5), which both values are made of.
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Runs `fn` with Math.random returning a constant, so values drawn from it would repeat. */
function withConstantMathRandom<T>(fn: () => T): T {
  const random = Math.random;
  Math.random = () => 0.5;
  try {
    return fn();
  } finally {
    Math.random = random;
  }
}

describe('pkce', () => {
  describe('codeChallengeS256', () => {
    it("reproduces RFC 7636 Appendix B's example challenge", () => {
      expect(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).to.equal('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    });

    it('is BASE64URL(SHA256(verifier)) without padding, for the longest verifier too', () => {
      const verifier = 'a~b.c-d_'.repeat(16);
      expect(verifier).to.have.length(128);
      const expected = createHash('sha256').update(verifier).digest('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
      expect(codeChallengeS256(verifier)).to.equal(expected);
      expect(codeChallengeS256(verifier)).to.match(BASE64URL).and.have.length(43);
    });
  });

  describe('createPKCE', () => {
    it('makes a 43-character verifier from the unreserved alphabet, its S256 challenge, and the method S256', () => {
      const pkce = createPKCE();
      expect(pkce.codeVerifier).to.have.length(43);
      expect(pkce.codeVerifier).to.match(UNRESERVED);
      expect(pkce.codeChallenge).to.equal(codeChallengeS256(pkce.codeVerifier));
      expect(pkce.codeChallenge).not.to.equal(pkce.codeVerifier);
      expect(pkce.codeChallengeMethod).to.equal('S256');
    });

    it('draws 256 random bits for every verifier: the verifier decodes to 32 bytes, and no two are alike', () => {
      const verifiers = withConstantMathRandom(() => Array.from({ length: 1000 }, () => createPKCE().codeVerifier));
      for (const verifier of verifiers) {
        expect(verifier).to.match(BASE64URL);
        const bytes = Buffer.from(verifier, 'base64url');
        expect(bytes).to.have.length(32);
        // Canonical base64url: the verifier is exactly those bytes, nothing dropped or added.
        expect(bytes.toString('base64url')).to.equal(verifier);
      }
      expect(new Set(verifiers).size).to.equal(verifiers.length);
    });
  });

  describe('createState', () => {
    it('carries at least 128 random bits, URL-safe, within the 500 characters X accepts', () => {
      const state = createState();
      expect(state).to.match(BASE64URL);
      expect(state.length).to.be.at.most(500);
      const bytes = Buffer.from(state, 'base64url');
      expect(bytes.length * 8).to.be.at.least(128);
      expect(bytes.toString('base64url')).to.equal(state);
    });

    it('gives a different value every time, even when Math.random repeats itself', () => {
      const states = withConstantMathRandom(() => Array.from({ length: 1000 }, () => createState()));
      expect(new Set(states).size).to.equal(states.length);
    });
  });
});
