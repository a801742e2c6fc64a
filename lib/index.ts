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
export {
  TwitterOAuth2Strategy,
  type TwitterOAuth2StrategyOptions,
  type TwitterOAuth2StrategyBaseOptions,
  type TwitterOAuth2AuthenticateOptions,
  type OAuth2VerifyFunction,
  type OAuth2VerifyFunctionAnyForm,
  type OAuth2VerifyFunctionWithParams,
  type OAuth2VerifyFunctionWithRequest,
  type OAuth2VerifyFunctionWithRequestAndParams,
} from './oauth2-strategy.js';
export type { VerifyCallback, VerifyResult } from './verify.js';
export type { CallbackClaim, TwitterSignInWarning, WarningHandler } from './sign-in.js';
export type { SignInStrategyOptions } from './options.js';
export {
  TwitterOAuth2Client,
  REQUIRED_SCOPES,
  X_AUTHORIZATION_URL,
  X_PROFILE_URL,
  X_REVOKE_URL,
  X_TOKEN_URL,
  type AuthorizationRequest,
  type OAuth2Token,
  type OAuth2TokenParams,
  type ProfileOptions,
  type TwitterOAuth2ClientOptions,
} from './oauth2-client.js';
export { createPKCE, codeChallengeS256, createState, type PKCE } from './pkce.js';
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
