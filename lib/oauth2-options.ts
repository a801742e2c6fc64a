/**
 * The OAuth 2.0 strategy's options: types, defaults (in each field's JSDoc), and the checks that
 * run once, in the constructor. What both strategies take is in options.ts.
 */
import { requireString } from './checks.js';
import type { TwitterOAuth2ClientOptions } from './oauth2-client.js';
import { checkBooleans, checkUserFields, SIGN_IN_OPTIONS, validateSignInOptions, type SignInStrategyOptions } from './options.js';
import type { PassReqToCallbackOption } from './verify.js';

/** Options of a single OAuth 2.0 sign-in, given to `passport.authenticate('twitter-oauth2', { … })`. */
export interface TwitterOAuth2AuthenticateOptions {
  /** Overrides the strategy's `callbackURL` for this sign-in (give it on both routes). */
  callbackURL?: string;
  /** Scopes to ask for in this sign-in, beside the strategy's. */
  scope?: string | string[];
}

/**
 * The strategy's options. `PassReq` is the type of `passReqToCallback`, as for
 * `TwitterSignInStrategyOptions`.
 */
export type TwitterOAuth2StrategyOptions<PassReq extends boolean = false> = TwitterOAuth2StrategyBaseOptions &
  PassReqToCallbackOption<PassReq>;

/** Every option but `passReqToCallback`. */
export interface TwitterOAuth2StrategyBaseOptions
  extends SignInStrategyOptions,
    Pick<TwitterOAuth2ClientOptions, 'clientID' | 'clientSecret' | 'authorizationURL' | 'tokenURL' | 'revokeURL' | 'profileURL'> {
  /**
   * Scopes to ask for beside `tweet.read users.read` (always asked: `GET /2/users/me` needs
   * both to say who signed in): e.g. `'offline.access'` for a refresh token, `'tweet.write'`.
   * A string (space separated) or an array. Default: none.
   */
  scope?: string | readonly string[];
  /** Ask for the user's email: the `users.email` scope and `confirmed_email`, as `profile.emails`. Default `false`. */
  includeEmail?: boolean;
  /** The `user.fields` of `GET /2/users/me`. Default `name,profile_image_url,description,created_at,verified`. */
  userFields?: string[];
}

const OAUTH2_OPTIONS = [
  ...SIGN_IN_OPTIONS,
  'clientID', 'clientSecret', 'authorizationURL', 'tokenURL', 'revokeURL', 'profileURL', 'scope', 'includeEmail', 'userFields',
] as const;

// passport-oauth2's options that are always on here, refused with why, so an app copied from
// there learns that state and PKCE need no setting rather than that they are unknown.
const ALWAYS_ON: Record<string, string> = {
  state: 'state is always on: every sign-in has its own, kept in the request-token store',
  pkce: 'PKCE (S256) is always on',
  scopeSeparator: "X's scopes are space separated, always",
};

/** Throws a TypeError naming the first option that is missing, unknown or of the wrong type. */
export function validateOAuth2StrategyOptions(options: TwitterOAuth2StrategyOptions<boolean>): void {
  for (const [name, why] of Object.entries(ALWAYS_ON)) {
    if ((options as unknown as Record<string, unknown>)[name] !== undefined) throw new TypeError(`${name} is not an option: ${why}`);
  }
  validateSignInOptions(options, OAUTH2_OPTIONS);
  requireString(options.clientID, 'clientID', ' (the OAuth 2.0 Client ID from the developer console, not the API key)');
  if (options.clientSecret !== undefined) requireString(options.clientSecret, 'clientSecret', ' when given (omit it for a public client)');
  scopesOf(options.scope, 'scope');
  checkUserFields(options.userFields);
  checkBooleans(options, ['includeEmail']);
}

/** A `scope` option as a list: an array of scopes, or one string of space-separated ones. */
export function scopesOf(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || /\s/.test(s))) {
    throw new TypeError(`${name} must be a string of space-separated scopes or an array of scopes`);
  }
  return (list as string[]).filter((s) => s !== '');
}
