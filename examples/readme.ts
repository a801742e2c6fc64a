import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { TwitterSignInStrategy } from 'passport-twitter-signin';

passport.use(
  new TwitterSignInStrategy(
    {
      consumerKey: process.env.TWITTER_CONSUMER_KEY!,
      consumerSecret: process.env.TWITTER_CONSUMER_SECRET!,
      callbackURL: 'http://127.0.0.1:3000/auth/twitter/callback', // registered in the developer console
    },
    async (_token, _tokenSecret, profile) => {
      // Find or create your user. Keep token and tokenSecret (encrypted, never in the session)
      // only if you call the API on the user's behalf.
      return { id: profile.id, username: profile.username };
    },
  ),
);
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

const app = express();
app.use(
  session({
    secret: process.env.SESSION_SECRET!, // a long random string
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' }, // Lax: the callback is a navigation from X
  }),
);
app.use(passport.session());

app.get('/', (req, res) => {
  // Why the last sign-in failed (failureMessage: true below): a lost session cookie, a cancel…
  const { messages = [] } = req.session as { messages?: string[] };
  (req.session as { messages?: string[] }).messages = [];
  const user = req.user as { username: string } | undefined;
  res.send(`${messages.map((m) => `<p>${m}</p>`).join('')}${user ? `Hello, @${user.username}` : '<a href="/auth/twitter">Sign in with Twitter</a>'}`);
});
app.get('/auth/twitter', passport.authenticate('twitter'));
app.get(
  '/auth/twitter/callback',
  passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }),
  (_req, res) => res.redirect('/'),
);
// X refused or did not answer: err.code and err.message say what to fix (and hold no secret).
app.use((err: Error & { status?: number; code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  console.error(err.code, err.message);
  res.status(err.status ?? 500).send('Signing in did not work. <a href="/">Try again</a>');
});
app.listen(3000);
