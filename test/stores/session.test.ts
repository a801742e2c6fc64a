import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { TwitterSignInError } from '../../lib/errors.js';
import { SessionRequestTokenStore } from '../../lib/stores/session.js';

function withSession(session: Record<string, unknown> = {}): IncomingMessage & { session: Record<string, unknown> } {
  return { session } as unknown as IncomingMessage & { session: Record<string, unknown> };
}

const SCOPE = 'oauth:twitter:app';

describe('SessionRequestTokenStore', () => {
  it('refuses an empty key, and a ttl or max that is not a positive whole number', () => {
    expect(() => new SessionRequestTokenStore({ key: '' })).to.throw(TypeError, 'key');
    expect(() => new SessionRequestTokenStore({ ttl: 0 })).to.throw(TypeError, 'ttl');
    expect(() => new SessionRequestTokenStore({ max: -1 })).to.throw(TypeError, 'max');
    expect(() => new SessionRequestTokenStore({ max: 1.5 })).to.throw(TypeError, 'max');
  });

  it('defaults to a 10-minute ttl and 5 pending sign-ins', () => {
    const store = new SessionRequestTokenStore();
    expect(store.ttl).to.equal(600_000);
    expect(store.max).to.equal(5);
  });

  it("sets, gets and destroys a pending sign-in under the strategy's scope, stamping expiresAt", () => {
    const store = new SessionRequestTokenStore({ ttl: 1000 });
    const req = withSession();
    const before = Date.now();
    store.set(req, 't1', 's1', SCOPE);
    const got = store.get(req, 't1', SCOPE)!;
    expect(got.token).to.equal('t1');
    expect(got.tokenSecret).to.equal('s1');
    expect(got.expiresAt).to.be.within(before + 1000, Date.now() + 1000);
    expect(Object.keys(req.session)).to.deep.equal([SCOPE]);
    store.destroy(req, 't1', SCOPE);
    expect(store.get(req, 't1', SCOPE)).to.equal(undefined);
    expect(req.session).to.deep.equal({});
  });

  it('keeps two scopes (two strategies) apart in one session', () => {
    const store = new SessionRequestTokenStore();
    const req = withSession();
    store.set(req, 'a', 'sa', 'oauth:twitter:one');
    expect(store.get(req, 'a', 'oauth:twitter:two')).to.equal(undefined);
    expect(store.hasPending(req, 'oauth:twitter:two')).to.equal(false);
    expect(store.get(req, 'a', 'oauth:twitter:one')?.tokenSecret).to.equal('sa');
  });

  it('uses a fixed key instead of the scope when one is given', () => {
    const store = new SessionRequestTokenStore({ key: 'twitter' });
    const req = withSession();
    store.set(req, 'a', 'sa', SCOPE);
    expect(Object.keys(req.session)).to.deep.equal(['twitter']);
  });

  it("keeps scopes apart under a fixed key too, so one strategy's token is never another's", () => {
    const store = new SessionRequestTokenStore({ key: 'twitter' });
    const req = withSession();
    store.set(req, 'token-of-one', 'secret-of-one', 'oauth:twitter:one');
    store.set(req, 'token-of-two', 'secret-of-two', 'oauth2:twitter:two');
    expect(store.get(req, 'token-of-one', 'oauth2:twitter:two')).to.equal(undefined);
    expect(store.get(req, 'token-of-one', 'oauth:twitter:one')?.tokenSecret).to.equal('secret-of-one');
    store.destroy(req, 'token-of-one', 'oauth:twitter:one');
    expect(store.hasPending(req, 'oauth:twitter:one')).to.equal(false);
    expect(store.hasPending(req, 'oauth2:twitter:two')).to.equal(true);
    store.destroy(req, 'token-of-two', 'oauth2:twitter:two');
    expect(Object.keys(req.session), 'nothing left behind').to.deep.equal([]);
  });

  it('keeps the newest entries when more than max are started, and drops expired ones on set', () => {
    const store = new SessionRequestTokenStore({ max: 2, ttl: 60_000 });
    const req = withSession();
    store.set(req, 'a', 'sa', SCOPE);
    store.set(req, 'b', 'sb', SCOPE);
    store.set(req, 'c', 'sc', SCOPE);
    expect(store.get(req, 'a', SCOPE), 'the oldest goes beyond max').to.equal(undefined);
    expect(store.get(req, 'b', SCOPE)?.tokenSecret).to.equal('sb');
    expect(store.get(req, 'c', SCOPE)?.tokenSecret).to.equal('sc');
    const realNow = Date.now;
    const later = realNow() + 61_000;
    Date.now = () => later;
    try {
      expect(store.get(req, 'c', SCOPE)?.tokenSecret, 'expired entries are still reported until replaced').to.equal('sc');
      store.set(req, 'd', 'sd', SCOPE);
      expect(req.session[SCOPE], 'the expired ones were dropped').to.have.length(1);
      expect(store.get(req, 'd', SCOPE)?.tokenSecret).to.equal('sd');
    } finally {
      Date.now = realNow;
    }
  });

  it('tells whether anything is pending in a scope', () => {
    const store = new SessionRequestTokenStore();
    const req = withSession();
    expect(store.hasPending(req, SCOPE)).to.equal(false);
    store.set(req, 'a', 'sa', SCOPE);
    expect(store.hasPending(req, SCOPE)).to.equal(true);
  });

  it('ignores malformed session data and inherited properties', () => {
    const store = new SessionRequestTokenStore({ key: 'k' });
    expect(store.get(withSession({ k: 'garbage' }), 'a', SCOPE)).to.equal(undefined);
    expect(store.get(withSession({ k: [['a', 1, 'x'], null, 'str'] }), 'a', SCOPE)).to.equal(undefined);
    expect(store.hasPending(withSession(Object.create({ k: [['a', 's', Date.now() + 1e6]] })), SCOPE)).to.equal(false);
    expect(new SessionRequestTokenStore().get(withSession(), 'a', '__proto__')).to.equal(undefined);
  });

  it('throws ERR_SESSION_REQUIRED naming express-session from check and set when req.session is missing', () => {
    const store = new SessionRequestTokenStore();
    for (const call of [() => store.check({} as IncomingMessage), () => store.set({} as IncomingMessage, 'a', 'b', SCOPE)]) {
      try {
        call();
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(TwitterSignInError);
        expect((err as TwitterSignInError).code).to.equal('ERR_SESSION_REQUIRED');
        expect((err as Error).message).to.include('express-session');
      }
    }
  });
});
