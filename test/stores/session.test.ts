import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { TwitterSignInError } from '../../lib/errors.js';
import { SessionRequestTokenStore } from '../../lib/stores/session.js';

function withSession(session: Record<string, unknown> = {}): IncomingMessage & { session: Record<string, unknown> } {
  return { session } as unknown as IncomingMessage & { session: Record<string, unknown> };
}

describe('SessionRequestTokenStore', () => {
  it('requires a key, and a positive ttl and max', () => {
    expect(() => new SessionRequestTokenStore({} as never)).to.throw(TypeError, 'key');
    expect(() => new SessionRequestTokenStore({ key: 'k', ttl: 0 })).to.throw(TypeError, 'ttl');
    expect(() => new SessionRequestTokenStore({ key: 'k', max: -1 })).to.throw(TypeError, 'max');
  });

  it('defaults to a 10-minute ttl and 5 pending sign-ins', () => {
    const store = new SessionRequestTokenStore({ key: 'k' });
    expect(store.ttl).to.equal(600_000);
    expect(store.max).to.equal(5);
  });

  it('sets, gets and destroys a pending sign-in under its key, stamping expiresAt', () => {
    const store = new SessionRequestTokenStore({ key: 'oauth:twitter:k', ttl: 1000 });
    const req = withSession();
    const before = Date.now();
    store.set(req, 't1', 's1');
    const got = store.get(req, 't1')!;
    expect(got.token).to.equal('t1');
    expect(got.tokenSecret).to.equal('s1');
    expect(got.expiresAt).to.be.within(before + 1000, Date.now() + 1000);
    expect(Object.keys(req.session)).to.deep.equal(['oauth:twitter:k']);
    store.destroy(req, 't1');
    expect(store.get(req, 't1')).to.equal(undefined);
    expect(req.session).to.deep.equal({});
  });

  it('keeps the newest entries when more than max are started, and drops expired ones on set', async () => {
    const store = new SessionRequestTokenStore({ key: 'k', max: 2, ttl: 40 });
    const req = withSession();
    store.set(req, 'a', 'sa');
    store.set(req, 'b', 'sb');
    store.set(req, 'c', 'sc');
    expect(store.get(req, 'a')).to.equal(undefined);
    expect(store.get(req, 'b')?.tokenSecret).to.equal('sb');
    await new Promise((r) => setTimeout(r, 60));
    expect(store.get(req, 'c')?.tokenSecret, 'expired entries are still reported until replaced').to.equal('sc');
    store.set(req, 'd', 'sd');
    expect((req.session.k as unknown[]).length).to.equal(1);
  });

  it('tells whether anything is pending', () => {
    const store = new SessionRequestTokenStore({ key: 'k' });
    const req = withSession();
    expect(store.hasPending(req)).to.equal(false);
    store.set(req, 'a', 'sa');
    expect(store.hasPending(req)).to.equal(true);
  });

  it('ignores malformed session data and inherited properties', () => {
    const store = new SessionRequestTokenStore({ key: 'k' });
    expect(store.get(withSession({ k: 'garbage' }), 'a')).to.equal(undefined);
    expect(store.get(withSession({ k: [['a', 1, 'x'], null, 'str'] }), 'a')).to.equal(undefined);
    expect(store.hasPending(withSession(Object.create({ k: [['a', 's', Date.now() + 1e6]] })))).to.equal(false);
    expect(new SessionRequestTokenStore({ key: '__proto__' }).get(withSession(), 'a')).to.equal(undefined);
  });

  it('throws ERR_SESSION_REQUIRED naming express-session when req.session is missing', () => {
    const store = new SessionRequestTokenStore({ key: 'k' });
    try {
      store.set({} as IncomingMessage, 'a', 'b');
      expect.fail('set should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(TwitterSignInError);
      expect((err as TwitterSignInError).code).to.equal('ERR_SESSION_REQUIRED');
      expect((err as Error).message).to.include('express-session');
    }
  });
});
