import type { Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import passport from 'passport';

// Mount after express-session (saveUninitialized: false) and passport.session().
export function signInRoutes(app: Express): void {
  // At most 10 sign-in starts per client address every 15 minutes; the 11th is a 429.
  const limitStarts = rateLimit({ windowMs: 15 * 60_000, limit: 10, standardHeaders: 'draft-8', legacyHeaders: false });
  app.get('/auth/twitter', limitStarts, passport.authenticate('twitter'));
  app.get(
    '/auth/twitter/callback',
    passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }),
    (_req, res) => res.redirect('/'),
  );
}
