/**
 * `passport-twitter-signin/testing`: a fake Twitter OAuth 1.0a provider for tests and local
 * development. Also runnable on its own: `npx passport-twitter-signin-fake --help`.
 */
export { startFakeTwitter } from './server.js';
export type {
  FakeEndpoint,
  FakeFault,
  FakeTwitter,
  FakeTwitterEndpoints,
  FakeTwitterOptions,
  FakeTwitterStats,
  FakeTwitterUser,
} from './server.js';
