export {
  TwitterSignInStrategy,
  TwitterSignInStrategy as Strategy,
  type TwitterSignInStrategyOptions,
  type TwitterSignInStrategyBaseOptions,
  type TwitterAuthenticateOptions,
  type AccessTokenParams,
  type VerifyFunction,
  type VerifyFunctionAnyForm,
  type VerifyFunctionWithParams,
  type VerifyFunctionWithRequest,
  type VerifyFunctionWithRequestAndParams,
} from './strategy.js';
export type { VerifyCallback, VerifyResult } from './verify.js';
export {
  TwitterOAuthClient,
  DEFAULT_TIMEOUT,
  TWITTER_ACCESS_TOKEN_URL,
  TWITTER_AUTHENTICATE_URL,
  TWITTER_AUTHORIZE_URL,
  TWITTER_REQUEST_TOKEN_URL,
  type AccessToken,
  type AuthorizationHeaderOptions,
  type AuthorizationURLOptions,
  type RequestToken,
  type TwitterOAuthClientOptions,
} from './client.js';
export {
  TwitterSignInError,
  type SignInFailure,
  type SignInFailureCode,
  type TwitterEndpoint,
  type TwitterSignInErrorCode,
} from './errors.js';
export { DEFAULT_USER_FIELDS, type ProfileLookup, type TwitterProfile } from './profile.js';
export type { PendingSignIn, RequestTokenStore, StoreContext } from './stores/store.js';
export {
  SessionRequestTokenStore,
  DEFAULT_MAX_PENDING,
  DEFAULT_PENDING_TTL,
  type SessionRequestTokenStoreOptions,
} from './stores/session.js';
export {
  CookieRequestTokenStore,
  DEFAULT_COOKIE_NAME,
  DEFAULT_HTTPS_COOKIE_NAME,
  MIN_SECRET_LENGTH,
  type CookieRequestTokenStoreOptions,
} from './stores/cookie.js';
export { timingSafeEqualString } from './compare.js';
