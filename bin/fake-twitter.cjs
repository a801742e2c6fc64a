#!/usr/bin/env node
// Runs the fake Twitter provider from the built package (see `passport-twitter-signin/testing`).
require('../dist/cjs/testing/cli.js')
  .main(process.argv.slice(2))
  .catch((err) => {
    // A bad argument or a taken port: say so in one line, not with a stack trace.
    console.error(`passport-twitter-signin-fake: ${err.message}`);
    process.exitCode = 1;
  });
