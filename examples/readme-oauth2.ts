import passport from 'passport';
import { TwitterOAuth2Strategy } from 'passport-twitter-signin';

passport.use(
  new TwitterOAuth2Strategy(
    {
      clientID: process.env.X_CLIENT_ID!, // OAuth 2.0 Client ID, under "Keys and tokens"
      clientSecret: process.env.X_CLIENT_SECRET, // a "Web App" (confidential client); omit for a public one
      callbackURL: 'http://127.0.0.1:3000/auth/x/callback',
      scope: ['offline.access'], // beside tweet.read users.read: a refresh token too
    },
    async (_accessToken, _refreshToken, profile) => ({ id: profile.id, username: profile.username }),
  ),
);
// The same two routes, with the strategy's name:
//   app.get('/auth/x', passport.authenticate('twitter-oauth2'));
//   app.get('/auth/x/callback', passport.authenticate('twitter-oauth2', { failureRedirect: '/', failureMessage: true }), …);
