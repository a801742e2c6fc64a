/**
 * The user's profile, in Passport's normalised shape.
 *
 * By default it is built from the access-token answer alone (`user_id`, `screen_name`): that
 * works on every Twitter API access level and costs no extra call.
 */
import type { Profile } from 'passport';
import type { AccessToken } from './client.js';
import { TwitterSignInError } from './errors.js';

export interface TwitterProfile extends Profile {
  provider: 'twitter';
  /** Twitter's numeric user id, as a string (`user_id`). */
  id: string;
  /** The handle without `@` (`screen_name`). */
  username: string;
  /** The display name when a profile lookup ran; the handle otherwise. */
  displayName: string;
  /** The raw JSON of the profile lookup, when one ran, as Twitter sent it. */
  _raw?: string;
  /** With `fetchProfile: 'v1.1'`: the access the user granted (`x-access-level`: `read`, `read-write`, …). */
  _accessLevel?: string;
  /** The email address, when one was asked for and X returned it; `verified` when X says it is confirmed. */
  emails?: { value: string; type?: string; verified?: boolean }[];
  /** What Twitter said about the user: the access-token parameters, or the looked-up profile. */
  _json: Record<string, unknown>;
}

/** The profile from the access-token answer: no call to Twitter. */
export function profileFromAccessToken(access: AccessToken): TwitterProfile {
  return {
    provider: 'twitter',
    id: access.userId,
    username: access.screenName,
    displayName: access.screenName,
    _json: { user_id: access.userId, screen_name: access.screenName },
  };
}

/** Which profile lookup runs after the access-token exchange. */
export type ProfileLookup = false | 'v2' | 'v1.1';

/** Fields asked of `GET /2/users/me` by default (`user.fields`). */
export const DEFAULT_USER_FIELDS = ['name', 'profile_image_url', 'description', 'created_at', 'verified'];

export interface ProfileLookupOptions {
  /** Where the API lives: the origin of the request-token URL (so a fake provider serves both). */
  apiBase: string;
  /** v2 `user.fields`. */
  userFields: readonly string[];
  /** v1.1 `include_email=true` (the app needs the email permission). */
  includeEmail: boolean;
}

/** A client able to make a signed GET; the strategy passes its `TwitterOAuthClient`. */
interface SignedGetter {
  getJSONResponse(
    url: string,
    token: string,
    tokenSecret: string,
  ): Promise<{ json: unknown; body: string; headers: Readonly<Record<string, string | string[] | undefined>> }>;
}

/**
 * Looks the user up with the access token: `GET /2/users/me` (v2) or
 * `GET /1.1/account/verify_credentials.json` (v1.1), mapped to Passport's profile.
 * A refusal becomes `ERR_PROFILE_UNAVAILABLE`, naming the endpoint and how to turn the lookup off:
 * Twitter's lower API access levels refuse these endpoints (403, or code 453).
 * @see https://developer.twitter.com/en/docs/twitter-api/users/lookup/api-reference/get-users-me
 * @see https://developer.twitter.com/en/docs/twitter-api/v1/accounts-and-users/manage-account-settings/api-reference/get-account-verify_credentials
 */
export async function lookUpProfile(
  client: SignedGetter,
  lookup: Exclude<ProfileLookup, false>,
  access: AccessToken,
  options: ProfileLookupOptions,
): Promise<TwitterProfile> {
  const url = new URL(lookup === 'v2' ? '/2/users/me' : '/1.1/account/verify_credentials.json', options.apiBase);
  if (lookup === 'v2') url.searchParams.set('user.fields', options.userFields.join(','));
  else if (options.includeEmail) url.searchParams.set('include_email', 'true');
  const endpoint = `GET ${url.pathname}`;
  let answer: Awaited<ReturnType<SignedGetter['getJSONResponse']>>;
  try {
    answer = await client.getJSONResponse(url.toString(), access.token, access.tokenSecret);
  } catch (err) {
    if (err instanceof TwitterSignInError && err.code === 'ERR_TWITTER_HTTP') {
      throw new TwitterSignInError(
        'ERR_PROFILE_UNAVAILABLE',
        `Twitter refused the profile lookup ${endpoint} with HTTP ${err.providerStatus}` +
          `${err.providerMessage ? `: ${err.providerMessage}` : ''}. The app's API access level may not include ` +
          `this endpoint; set fetchProfile: false to sign in with user_id and screen_name only` +
          `${lookup === 'v2' ? ", or try fetchProfile: 'v1.1'" : ''}.`,
        {
          endpoint: 'profile',
          ...(err.providerStatus !== undefined ? { providerStatus: err.providerStatus } : {}),
          ...(err.providerCode !== undefined ? { providerCode: err.providerCode } : {}),
          ...(err.providerMessage !== undefined ? { providerMessage: err.providerMessage } : {}),
          cause: err,
        },
      );
    }
    throw err;
  }
  const { json, body } = answer;
  if (lookup === 'v2') return profileFromUsersMe(json, body, endpoint);
  const profile = fromV11(json, body, endpoint);
  // passport-twitter's profile has it too: the access the user granted ('read', 'read-write', …).
  const level = answer.headers['x-access-level'];
  if (typeof level === 'string') profile._accessLevel = level;
  return profile;
}

/**
 * The profile from `GET /2/users/me`'s answer (`{"data":{…}}`): the OAuth 1.0a `'v2'` lookup's,
 * and the OAuth 2.0 strategy's identity. `confirmed_email` (asked for with the `users.email`
 * scope) becomes a verified `emails` entry: X returns only an address the user confirmed.
 * @see https://docs.x.com/x-api/users/lookup/api-reference/get-users-me
 */
export function profileFromUsersMe(json: unknown, raw: string, endpoint = 'GET /2/users/me'): TwitterProfile {
  const data = objectAt(json, 'data', endpoint);
  const profile: TwitterProfile = {
    provider: 'twitter',
    id: stringAt(data, 'id', endpoint),
    username: stringAt(data, 'username', endpoint),
    displayName: typeof data.name === 'string' ? data.name : stringAt(data, 'username', endpoint),
    _raw: raw,
    _json: data,
  };
  if (typeof data.profile_image_url === 'string') profile.photos = [{ value: data.profile_image_url }];
  if (typeof data.confirmed_email === 'string' && data.confirmed_email) {
    profile.emails = [{ value: data.confirmed_email, verified: true }];
  }
  return profile;
}

function fromV11(json: unknown, raw: string, endpoint: string): TwitterProfile {
  const user = objectAt({ user: json }, 'user', endpoint);
  const profile: TwitterProfile = {
    provider: 'twitter',
    // id_str: the numeric `id` loses precision in JavaScript for ids above 2^53.
    id: stringAt(user, 'id_str', endpoint),
    username: stringAt(user, 'screen_name', endpoint),
    displayName: typeof user.name === 'string' ? user.name : stringAt(user, 'screen_name', endpoint),
    _raw: raw,
    _json: user,
  };
  const photo = user.profile_image_url_https ?? user.profile_image_url;
  if (typeof photo === 'string') profile.photos = [{ value: photo }];
  if (typeof user.email === 'string' && user.email) profile.emails = [{ value: user.email }];
  return profile;
}

function objectAt(json: unknown, key: string, endpoint: string): Record<string, unknown> {
  const value = json && typeof json === 'object' ? (json as Record<string, unknown>)[key] : undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new TwitterSignInError('ERR_TWITTER_RESPONSE', `Twitter's answer to ${endpoint} has no ${key} object.`, {
      endpoint: 'profile',
    });
  }
  return value as Record<string, unknown>;
}

function stringAt(obj: Record<string, unknown>, key: string, endpoint: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new TwitterSignInError('ERR_TWITTER_RESPONSE', `Twitter's answer to ${endpoint} has no ${key}.`, {
      endpoint: 'profile',
    });
  }
  return value;
}
