// Express 4, installed under an alias for the compatibility test; its API used there is typed
// the same as Express 5's.
declare module 'express4' {
  import express = require('express');
  export = express;
}
