#!/usr/bin/env node
// Runs the fake Twitter provider from the built package (see `passport-twitter-signin/testing`).
require('../dist/cjs/testing/cli.js').main(process.argv.slice(2));
