/**
 * The example app: Sign in with Twitter (OAuth 1.0a) and Sign in with X (OAuth 2.0) side by side
 * in one Express 5 app, as you would copy it.
 *
 * `createApp()` builds the app for a given Twitter (real or fake); `start.ts` runs it.
 */
import express, { type Express } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import {
  TwitterOAuth2Strategy,
  TwitterSignInError,
  TwitterSignInStrategy,
  type TwitterOAuth2StrategyOptions,
  type TwitterProfile,
  type TwitterSignInStrategyOptions,
} from 'passport-twitter-signin';

export interface ExampleOptions {
  /** OAuth 1.0a: the app's keys, and endpoints (the fake's, or X's by default). */
  twitter?: Omit<TwitterSignInStrategyOptions, 'callbackURL'>;
  /** OAuth 2.0: the app's client, and endpoints (the fake's, or X's by default). */
  x?: Omit<TwitterOAuth2StrategyOptions, 'callbackURL'>;
  /** Where the app is reached, e.g. `http://127.0.0.1:3000`: the callback URLs are on it. */
  origin: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  /** A line shown on the home page (e.g. "Signing in against a fake Twitter"). */
  banner?: string;
  /** Where the developer's side of an error goes (default: console.error). */
  log?: (message: string) => void;
}

interface User {
  id: string;
  username: string;
  displayName: string;
  /** Which sign-in the user came through. */
  via: 'OAuth 1.0a' | 'OAuth 2.0';
}

/** The two callback paths: register `origin` + each in X's developer console. */
export const CALLBACK_PATHS = { twitter: '/auth/twitter/callback', x: '/auth/x/callback' } as const;

export function createApp(options: ExampleOptions): Express {
  const log = options.log ?? ((message: string) => console.error(message));
  const passport = new Passport();
  const toUser = (profile: TwitterProfile, via: User['via']): User => ({
    id: profile.id,
    username: profile.username,
    displayName: profile.displayName,
    via,
  });
  // A real app finds or creates its user in verify, and keeps the tokens (encrypted, never in
  // the session) only if it calls the API on the user's behalf. No secret goes into a page.
  if (options.twitter) {
    passport.use(
      new TwitterSignInStrategy({ ...options.twitter, callbackURL: `${options.origin}${CALLBACK_PATHS.twitter}` }, async (_t, _s, profile) =>
        toUser(profile, 'OAuth 1.0a'),
      ),
    );
  }
  if (options.x) {
    passport.use(
      new TwitterOAuth2Strategy({ ...options.x, callbackURL: `${options.origin}${CALLBACK_PATHS.x}` }, async (_access, _refresh, profile) =>
        toUser(profile, 'OAuth 2.0'),
      ),
    );
  }
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(
    session({
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      // Lax: the callback is a top-level navigation from X, which Strict would strip.
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use(passport.session());

  app.get('/', (req, res) => {
    const user = req.user as User | undefined;
    // What a failed sign-in left for the user (failureMessage: true): say it once, then forget it.
    const messages = (req.session as { messages?: string[] }).messages ?? [];
    delete (req.session as { messages?: string[] }).messages;
    const buttons = [
      options.twitter
        ? `<p><a class="twitter-button" id="sign-in" href="/auth/twitter">Sign in with Twitter</a> <small>(OAuth 1.0a)</small></p>
           <p>or <a class="twitter-link" id="sign-in-link" href="/auth/twitter">sign in with Twitter</a> (link style)</p>`
        : '',
      options.x ? `<p><a class="twitter-button" id="sign-in-x" href="/auth/x">Sign in with X</a> <small>(OAuth 2.0)</small></p>` : '',
    ].join('');
    res.type('html').send(
      page(
        'Sign in with Twitter — example',
        `${options.banner ? `<p class="banner">${escape(options.banner)}</p>` : ''}
        ${messages.map((m) => `<p class="error" id="error">${escape(m)}</p>`).join('')}
        ${user ? `<p>Signed in as <a href="/profile">@${escape(user.username)}</a>.</p>${signOut()}` : buttons}`,
      ),
    );
  });

  if (options.twitter) {
    app.get('/auth/twitter', passport.authenticate('twitter'));
    app.get(
      CALLBACK_PATHS.twitter,
      passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }),
      (_req, res) => res.redirect('/profile'),
    );
  }
  if (options.x) {
    app.get('/auth/x', passport.authenticate('twitter-oauth2'));
    app.get(
      CALLBACK_PATHS.x,
      passport.authenticate('twitter-oauth2', { failureRedirect: '/', failureMessage: true }),
      (_req, res) => res.redirect('/profile'),
    );
  }

  app.get('/profile', (req, res) => {
    const user = req.user as User | undefined;
    if (!user) return res.redirect('/');
    res.type('html').send(
      page(
        'Your profile',
        `<h2 id="display-name">${escape(user.displayName)}</h2>
         <dl>
           <dt>Twitter user id</dt><dd id="user-id">${escape(user.id)}</dd>
           <dt>Handle</dt><dd id="screen-name">@${escape(user.username)}</dd>
           <dt>Signed in with</dt><dd id="via">${escape(user.via)}</dd>
         </dl>
         <p><a href="/">Home</a></p>${signOut()}`,
      ),
    );
  });

  app.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect('/')));
  });

  // A sign-in that broke (X slow or down, a misconfigured callback URL): the user gets a short
  // page with a way to try again; the developer gets the error's code and message in the log,
  // which name what to fix and never contain a secret. err.status is 502/504 for X's side.
  app.use((err: Error, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const known = err instanceof TwitterSignInError;
    log(known ? `Sign-in failed on ${req.path}: ${err.code}: ${err.message}` : `Error on ${req.path}: ${err.stack ?? err.message}`);
    const why = !known
      ? 'Something went wrong.'
      : err.code === 'ERR_TWITTER_TIMEOUT'
        ? 'X did not answer in time.'
        : err.status >= 500 && err.status < 600 && err.code.startsWith('ERR_TWITTER')
          ? 'X could not complete the sign-in.'
          : 'The sign-in could not be completed.';
    res
      .status(known ? err.status : 500)
      .type('html')
      .send(
        page(
          'Sign-in did not work',
          `<p class="error" id="error">${escape(why)} Please try again in a moment.</p>
           <p><a id="try-again" href="/">Try again</a></p>`,
        ),
      );
  });
  return app;
}

function signOut(): string {
  return '<form method="post" action="/logout"><button id="sign-out" type="submit">Sign out</button></form>';
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
  .twitter-button { display: inline-block; background: #000; color: #fff; padding: .6rem 1.2rem;
    border-radius: 999px; text-decoration: none; font-weight: 600; }
  .twitter-link { color: #1d9bf0; }
  .error { color: #b00020; } .banner { color: #555; font-size: .9rem; }
</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
