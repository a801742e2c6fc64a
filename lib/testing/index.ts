/**
 * `passport-twitter-signin/testing`: a fake Twitter (X) for tests and local development, with
 * OAuth 1.0a and OAuth 2.0 on one server. Also runnable on its own:
 * `npx passport-twitter-signin-fake --help`.
 */
export { startFakeTwitter } from './server.js';
export type {
  FakeEndpoint,
  FakeFault,
  FakeTwitter,
  FakeTwitterEndpoints,
  FakeTwitterOAuth2Endpoints,
  FakeTwitterCommonOptions,
  FakeTwitterOptions,
  FakeTwitterStats,
  FakeTwitterUser,
} from './server.js';
