import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { TwitterSignInStrategy } from 'passport-twitter-signin';

passport.use(
  new TwitterSignInStrategy(
    {
      consumerKey: process.env.TWITTER_CONSUMER_KEY!,
      consumerSecret: process.env.TWITTER_CONSUMER_SECRET!,
      callbackURL: 'http://localhost:3000/auth/twitter/callback', // registered in the developer portal
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
    cookie: { httpOnly: true, sameSite: 'lax' }, // Lax: the callback is a navigation from Twitter
  }),
);
app.use(passport.session());

app.get('/', (req, res) => {
  res.send(req.user ? `Hello, @${(req.user as { username: string }).username}` : '<a href="/auth/twitter">Sign in with Twitter</a>');
});
app.get('/auth/twitter', passport.authenticate('twitter'));
app.get(
  '/auth/twitter/callback',
  passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }),
  (_req, res) => res.redirect('/'),
);
app.listen(3000);
