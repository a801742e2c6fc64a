import { expect } from 'chai';
import { MAX_SIGNED_UP, UserDirectory, v1User, v2User } from '../../lib/testing/users.js';

describe('users', () => {
  describe('UserDirectory', () => {
    it('signs in a configured user only with the configured password', () => {
      const users = new UserDirectory([{ id: '1', screen_name: 'Ann', password: 'secret' }]);
      expect(users.signIn('ann', 'secret')?.id).to.equal('1');
      expect(users.signIn('@ANN', 'secret')?.id).to.equal('1');
      expect(users.signIn('ann', 'Secret')).to.equal(undefined);
    });

    it('accepts any non-empty password for a configured user without one', () => {
      const users = new UserDirectory([{ id: '1', screen_name: 'ann' }]);
      expect(users.signIn('ann', 'whatever')?.id).to.equal('1');
      expect(users.signIn('ann', '')).to.equal(undefined);
    });

    it('refuses names that are not configured when users are configured', () => {
      expect(new UserDirectory([]).signIn('bob', 'pw')).to.equal(undefined);
    });

    it('creates an account with a numeric id for any name in development mode', () => {
      const users = new UserDirectory(undefined);
      const bob = users.signIn('bob', 'pw');
      expect(bob?.id).to.match(/^\d+$/);
      expect(bob?.screen_name).to.equal('bob');
      expect(users.signIn('Bob', 'other')?.id).to.equal(bob?.id);
      expect(users.signIn('', 'pw')).to.equal(undefined);
      expect(users.signIn('carol', '')).to.equal(undefined);
    });

    it('keeps at most MAX_SIGNED_UP accounts made by open sign-up, the oldest going first', () => {
      const users = new UserDirectory(undefined);
      const first = users.signIn('first', 'pw')!;
      for (let i = 0; i < MAX_SIGNED_UP; i++) users.signIn(`user${i}`, 'pw');
      expect(users.get(first.id)).to.equal(undefined);
      expect(users.signIn(`user${MAX_SIGNED_UP - 1}`, 'pw')).to.not.equal(undefined);
    });
  });

  describe('v1User', () => {
    const user = { id: '12', screen_name: 'ann', email: 'ann@example.com', createdAt: new Date('2018-10-10T20:19:24Z') };

    it("uses Twitter's v1.1 date format and default avatar", () => {
      expect(v1User(user, false)).to.include({
        id: 12,
        id_str: '12',
        name: 'ann',
        created_at: 'Wed Oct 10 20:19:24 +0000 2018',
        default_profile_image: true,
      });
    });

    it('includes email only when asked to', () => {
      expect(v1User(user, false)).not.to.have.property('email');
      expect(v1User(user, true)).to.have.property('email', 'ann@example.com');
    });
  });

  describe('v2User', () => {
    it('returns id, name and username plus the requested fields it has', () => {
      const user = { id: '12', screen_name: 'ann', createdAt: new Date('2018-10-10T20:19:24Z') };
      expect(v2User(user, ['created_at', 'public_metrics'], false)).to.deep.equal({
        id: '12',
        name: 'ann',
        username: 'ann',
        created_at: '2018-10-10T20:19:24.000Z',
      });
    });

    it('returns confirmed_email only when asked for and the token has the users.email scope', () => {
      const user = { id: '12', screen_name: 'ann', email: 'ann@example.com', createdAt: new Date() };
      expect(v2User(user, ['confirmed_email'], true)).to.include({ confirmed_email: 'ann@example.com' });
      expect(v2User(user, ['confirmed_email'], false)).not.to.have.property('confirmed_email');
      expect(v2User(user, [], true)).not.to.have.property('confirmed_email');
    });
  });
});
