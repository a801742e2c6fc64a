/**
 * The user's profile, in Passport's normalised shape.
 *
 * By default it is built from the access-token answer alone (`user_id`, `screen_name`): that
 * works on every Twitter API access level and costs no extra call.
 */
import type { Profile } from 'passport';
import type { AccessToken } from './client.js';

export interface TwitterProfile extends Profile {
  provider: 'twitter';
  /** Twitter's numeric user id, as a string (`user_id`). */
  id: string;
  /** The handle without `@` (`screen_name`). */
  username: string;
  /** The display name when a profile lookup ran; the handle otherwise. */
  displayName: string;
  /** The raw JSON of the profile lookup, when one ran. */
  _raw?: string;
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
