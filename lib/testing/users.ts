/**
 * The fake's Twitter accounts: who can sign in, and how each profile endpoint shows them.
 */
import { randomInt } from 'node:crypto';
import { safeEqual } from './signature.js';

/** An account on the fake Twitter. */
export interface FakeTwitterUser {
  /** Numeric string, like Twitter's `id_str`. */
  id: string;
  /** Handle without `@`; sign-in matches it case-insensitively, as Twitter does. */
  screen_name: string;
  /** Display name. Default: `screen_name`. */
  name?: string;
  /** When set, the sign-in page requires it; when not, any non-empty password is accepted. */
  password?: string;
  /** Returned by verify_credentials with `include_email=true`. */
  email?: string;
  /** Avatar URL. Default: Twitter's default avatar. */
  profile_image_url?: string;
}

export interface StoredUser extends Readonly<FakeTwitterUser> {
  readonly createdAt: Date;
}

/** Accounts open sign-up keeps at most. */
export const MAX_SIGNED_UP = 10_000;

const DEFAULT_PROFILE_IMAGE = 'https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png';

export class UserDirectory {
  readonly #byId = new Map<string, StoredUser>();
  readonly #byName = new Map<string, StoredUser>();
  /** Without a configured user list, any name signs in and becomes an account (development mode). */
  readonly #openSignUp: boolean;
  /** The accounts open sign-up made, oldest first. */
  readonly #signedUp: StoredUser[] = [];

  /** Throws TypeError naming the option when a user is malformed or a duplicate. */
  constructor(users: readonly FakeTwitterUser[] | undefined) {
    if (users !== undefined && !Array.isArray(users)) throw new TypeError('options.users must be an array of users.');
    this.#openSignUp = users === undefined;
    users?.forEach((user, i) => this.add(user, `options.users[${i}]`));
  }

  /** Whether any username and password sign in (no accounts were configured). */
  get openSignUp(): boolean {
    return this.#openSignUp;
  }

  /** Adds an account; `field` names the option it came from in error messages. */
  add(user: FakeTwitterUser, field: string): StoredUser {
    if (typeof user !== 'object' || user === null) throw new TypeError(`${field} must be an object.`);
    if (typeof user.id !== 'string' || !/^\d{1,19}$/.test(user.id)) {
      throw new TypeError(`${field}.id must be a numeric string, like Twitter's id_str.`);
    }
    if (typeof user.screen_name !== 'string' || user.screen_name === '') {
      throw new TypeError(`${field}.screen_name must be a non-empty string.`);
    }
    for (const key of ['name', 'password', 'email', 'profile_image_url'] as const) {
      if (user[key] !== undefined && typeof user[key] !== 'string') throw new TypeError(`${field}.${key} must be a string.`);
    }
    if (this.#byId.has(user.id)) throw new TypeError(`${field}.id ${user.id} is already taken by another user.`);
    if (this.#byName.has(user.screen_name.toLowerCase())) {
      throw new TypeError(`${field}.screen_name ${user.screen_name} is already taken by another user.`);
    }
    const stored: StoredUser = { ...user, createdAt: new Date() };
    this.#byId.set(stored.id, stored);
    this.#byName.set(stored.screen_name.toLowerCase(), stored);
    return stored;
  }

  get(id: string): StoredUser | undefined {
    return this.#byId.get(id);
  }

  /** The account for `{id, screen_name}`, added if it is new (for `autoApprove`). */
  ensure(user: { id: string; screen_name: string }, field: string): StoredUser {
    const existing = typeof user === 'object' && user !== null ? this.#byId.get(user.id) : undefined;
    if (existing && existing.screen_name === user.screen_name) return existing;
    return this.add(user, field);
  }

  /** The account these credentials open, or `undefined` (the page then says they did not match). */
  signIn(username: string, password: string): StoredUser | undefined {
    const screenName = username.trim().replace(/^@/, '');
    if (screenName === '' || password === '') return undefined;
    const known = this.#byName.get(screenName.toLowerCase());
    if (known) return known.password === undefined || safeEqual(password, known.password) ? known : undefined;
    if (!this.#openSignUp) return undefined;
    // A long-running fake signing up whoever comes must not grow without end: past the cap, the
    // oldest accounts made this way go (configured accounts stay).
    while (this.#signedUp.length >= MAX_SIGNED_UP) {
      const old = this.#signedUp.shift()!;
      this.#byId.delete(old.id);
      this.#byName.delete(old.screen_name.toLowerCase());
    }
    const user = this.add({ id: this.#newId(), screen_name: screenName }, 'username');
    this.#signedUp.push(user);
    return user;
  }

  #newId(): string {
    // Below 2^48, so the number form in v1.1 JSON (`id`) stays exact in JavaScript.
    let id: string;
    do id = String(randomInt(1_000_000, 2 ** 48 - 1));
    while (this.#byId.has(id));
    return id;
  }
}

/**
 * `GET /1.1/account/verify_credentials.json`: the v1.1 user object. `email` only with
 * `include_email=true`, as on Twitter (where the app also needs the email permission).
 *
 * @see https://developer.twitter.com/en/docs/twitter-api/v1/accounts-and-users/manage-account-settings/api-reference/get-account-verify_credentials
 */
export function v1User(user: StoredUser, includeEmail: boolean): Record<string, unknown> {
  return {
    id: Number(user.id),
    id_str: user.id,
    name: user.name ?? user.screen_name,
    screen_name: user.screen_name,
    location: '',
    description: '',
    url: null,
    protected: false,
    followers_count: 0,
    friends_count: 0,
    statuses_count: 0,
    created_at: twitterDate(user.createdAt),
    verified: false,
    profile_image_url_https: user.profile_image_url ?? DEFAULT_PROFILE_IMAGE,
    default_profile_image: user.profile_image_url === undefined,
    ...(includeEmail && user.email !== undefined ? { email: user.email } : {}),
  };
}

/**
 * Every `user.fields` value X's v2 API accepts (its OpenAPI spec's list, and the older
 * `pinned_tweet_id`, `most_recent_tweet_id` and `affiliation` its guides still use); anything else
 * is refused as X refuses it, so a typo in a client's field list fails here and not in production.
 *
 * @see https://developer.twitter.com/en/docs/twitter-api/data-dictionary/object-model/user
 */
export const V2_USER_FIELDS: readonly string[] = [
  'affiliation', 'confirmed_email', 'connection_status', 'created_at', 'description', 'entities', 'id',
  'is_identity_verified', 'location', 'most_recent_tweet_id', 'name', 'parody', 'pinned_tweet_id',
  'profile_banner_url', 'profile_image_url', 'protected', 'public_metrics', 'receives_your_dm',
  'subscribes_to_you', 'subscription', 'subscription_type', 'url', 'username', 'verified',
  'verified_followers_count', 'verified_type', 'withheld',
];

/**
 * `GET /2/users/me`: `id`, `name` and `username` always, plus the requested fields the fake
 * has a value for (Twitter, too, leaves out fields a user has no value for). `emailGranted`: the
 * token has the `users.email` scope, so `confirmed_email` may be returned.
 *
 * @see https://developer.twitter.com/en/docs/twitter-api/users/lookup/api-reference/get-users-me
 */
export function v2User(user: StoredUser, fields: readonly string[], emailGranted: boolean): Record<string, unknown> {
  const available: Record<string, unknown> = {
    created_at: user.createdAt.toISOString(),
    description: '',
    profile_image_url: user.profile_image_url ?? DEFAULT_PROFILE_IMAGE,
    protected: false,
    verified: false,
  };
  const data: Record<string, unknown> = { id: user.id, name: user.name ?? user.screen_name, username: user.screen_name };
  // confirmed_email only with the users.email scope (OAuth 2.0), and only for a user who has one.
  if (emailGranted && user.email !== undefined) available.confirmed_email = user.email;
  for (const field of fields) if (field in available) data[field] = available[field];
  return data;
}

/** Twitter's v1.1 date format: `Wed Oct 10 20:19:24 +0000 2018`. */
function twitterDate(date: Date): string {
  const [weekday, day, month, year, time] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} +0000 ${year}`;
}
