const express = require('express');
const session = require('express-session');
const passport = require('passport');
const { TwitterSignInStrategy } = require('passport-twitter-signin');

passport.use(
  new TwitterSignInStrategy(
    {
      consumerKey: process.env.TWITTER_CONSUMER_KEY,
      consumerSecret: process.env.TWITTER_CONSUMER_SECRET,
      callbackURL: 'http://127.0.0.1:3000/auth/twitter/callback',
    },
    async (token, tokenSecret, profile) => ({ id: profile.id, username: profile.username }),
  ),
);
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user, done) => done(null, user));

const app = express();
app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' } }));
app.use(passport.session());
app.get('/auth/twitter', passport.authenticate('twitter'));
app.get('/auth/twitter/callback', passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }), (req, res) => res.redirect('/'));
app.listen(3000);
