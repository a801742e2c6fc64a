// passport.authenticate() with this package's per-sign-in options (README: Options), next to
// passport's own, and what must not compile. `Passport` is a named import so that this file
// compiles under every module setting, esModuleInterop off included.
import { Passport } from 'passport';
import type { TwitterAuthenticateOptions } from 'passport-twitter-signin';

const passport = new Passport();

passport.authenticate('twitter', { forceLogin: true });
passport.authenticate('twitter', { screenName: 'alice', accessType: 'read', authorize: true, callbackURL: '/cb' });
passport.authenticate('twitter', { forceLogin: true, failureRedirect: '/', failureMessage: true });
const perSignIn: TwitterAuthenticateOptions = { forceLogin: false };
passport.authenticate('twitter', perSignIn);

// @ts-expect-error forceLogin is a boolean
passport.authenticate('twitter', { forceLogin: 'yes' });
// @ts-expect-error accessType is 'read' or 'write'
passport.authenticate('twitter', { accessType: 'admin' });
// @ts-expect-error options are spelled as documented
passport.authenticate('twitter', { forcelogin: true });
