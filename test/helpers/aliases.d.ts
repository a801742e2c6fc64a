// Packages installed under an alias for the compatibility tests.

// Express 4, installed under an alias for the compatibility test; its API used there is typed
// the same as Express 5's.
declare module 'express4' {
  import express = require('express');
  export = express;
}

// Passport 0.6, installed under an alias for the compatibility test; typed as the current one.
declare module 'passport06' {
  import passport = require('passport');
  export = passport;
}
