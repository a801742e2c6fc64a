/**
 * The example app: Sign in with Twitter in an Express 5 app, as you would copy it.
 *
 * `createApp()` builds the app for a given Twitter (real or fake); `start.ts` runs it.
 */
import express, { type Express } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { TwitterSignInError, TwitterSignInStrategy, type TwitterSignInStrategyOptions } from 'passport-twitter-signin';

export interface ExampleOptions {
  /** Keys and endpoints of the Twitter app (the fake's, or real Twitter's). */
  twitter: Pick<
    TwitterSignInStrategyOptions,
    'consumerKey' | 'consumerSecret' | 'requestTokenURL' | 'accessTokenURL' | 'userAuthorizationURL'
  >;
  /** Absolute callback URL, registered for the Twitter app. */
  callbackURL: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  /** A line shown on the home page (e.g. "Signed in against the fake Twitter"). */
  banner?: string;
}

interface User {
  id: string;
  username: string;
  displayName: string;
}

export function createApp(options: ExampleOptions): Express {
  const passport = new Passport();
  passport.use(
    new TwitterSignInStrategy({ ...options.twitter, callbackURL: options.callbackURL }, async (_token, _tokenSecret, profile) => {
      // A real app finds or creates its user here, and keeps token and tokenSecret (encrypted)
      // if it calls the API on the user's behalf. The secret never goes into a page.
      const user: User = { id: profile.id, username: profile.username, displayName: profile.displayName };
      return user;
    }),
  );
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(
    session({
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use(passport.session());
  app.use(express.urlencoded({ extended: false }));

  app.get('/', (req, res) => {
    const user = req.user as User | undefined;
    const messages = (req.session as { messages?: string[] }).messages ?? [];
    delete (req.session as { messages?: string[] }).messages;
    res.type('html').send(
      page(
        'Sign in with Twitter — example',
        `${options.banner ? `<p class="banner">${escape(options.banner)}</p>` : ''}
        ${messages.map((m) => `<p class="error" id="error">${escape(m)}</p>`).join('')}
        ${
          user
            ? `<p>Signed in as <a href="/profile">@${escape(user.username)}</a>.</p>${signOut()}`
            : `<p><a class="twitter-button" id="sign-in" href="/auth/twitter">Sign in with Twitter</a></p>
               <p>or <a class="twitter-link" id="sign-in-link" href="/auth/twitter">sign in with Twitter</a> (link style)</p>`
        }`,
      ),
    );
  });

  app.get('/auth/twitter', passport.authenticate('twitter'));
  app.get(
    '/auth/twitter/callback',
    passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }),
    (_req, res) => res.redirect('/profile'),
  );

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
         </dl>
         <p><a href="/">Home</a></p>${signOut()}`,
      ),
    );
  });

  app.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect('/')));
  });

  // Sign-in errors (Twitter down, a misconfigured callback URL) get a page with the error's code
  // and message: they name what to fix and never contain a secret. Other errors could say
  // anything, so they get a generic page.
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const text = err instanceof TwitterSignInError ? `${err.code}: ${err.message}` : 'Something went wrong.';
    res
      .status(500)
      .type('html')
      .send(page('Sign-in error', `<p class="error" id="error">${escape(text)}</p><p><a href="/">Home</a></p>`));
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
