/**
 * The types of an app's `verify`, for any strategy whose verify is given credentials, then
 * (optionally) the token endpoint's parameters, then the profile: OAuth 1.0a's token and token
 * secret here, an OAuth 2.0 strategy's access and refresh token the same way.
 *
 * `verify` takes one of four forms: with or without `req` first (`passReqToCallback`), and with or
 * without `params` before `profile` (told apart at run time by its arity); each either calls
 * `done` or returns the user (or a promise of it). A strategy's constructor has one overload
 * per form, and one for a `passReqToCallback` known only at run time, so an app's arrow function
 * gets its parameters typed from the options it is given.
 */

/** Passport's `done`: an error, a user, or `false` with a reason. */
export type VerifyCallback = (err?: unknown, user?: Express.User | false | null, info?: unknown) => void;

/**
 * What a verify without `done` returns: the user, or `false`/`null` to refuse the sign-in
 * (directly or as a promise). A verify with `done` returns nothing.
 */
export type VerifyResult = Express.User | false | null | undefined | void | Promise<Express.User | false | null | undefined>;

/**
 * The four forms of `verify` for a strategy whose verify receives `Credentials` (a labelled
 * tuple, so the parameter names show in editors), the token endpoint's `Params`, and `Profile`.
 * One signature each, not a union: TypeScript types an arrow function's parameters only from a
 * single signature.
 */
export interface VerifyForms<Req, Credentials extends unknown[], Params, Profile> {
  plain: (...args: [...Credentials, profile: Profile, done: VerifyCallback]) => VerifyResult;
  withParams: (...args: [...Credentials, params: Params, profile: Profile, done: VerifyCallback]) => VerifyResult;
  withRequest: (...args: [req: Req, ...Credentials, profile: Profile, done: VerifyCallback]) => VerifyResult;
  withRequestAndParams: (...args: [req: Req, ...Credentials, params: Params, profile: Profile, done: VerifyCallback]) => VerifyResult;
}

/**
 * A verify for a `passReqToCallback` known only at run time: it may be called in any of the
 * forms, so each parameter has the type of whatever any form passes in its place (the first is
 * `req` or the first credential), and the last ones may be missing.
 */
export type VerifyAnyForm<F extends { [Form in keyof VerifyForms<unknown, [], unknown, unknown>]: (...args: never) => unknown }> = (
  ...args: Columns<Parameters<F['plain']> | Parameters<F['withParams']> | Parameters<F['withRequest']> | Parameters<F['withRequestAndParams']>>
) => VerifyResult;

/**
 * The strategy option `passReqToCallback`, typed by its value so that it picks the form of
 * `verify`: `true` the forms with `req` first, `false` or absent those without, and a `boolean`
 * (known only at run time) a verify that accepts any form (`VerifyAnyForm`).
 */
export type PassReqToCallbackOption<PassReq extends boolean> = boolean extends PassReq
  ? {
      /** Pass the request as the first argument of `verify`. Default `false`. */
      passReqToCallback?: boolean;
    }
  : PassReq extends true
    ? {
        /** Pass the request as the first argument of `verify`. */
        passReqToCallback: true;
      }
    : {
        /**
         * Pass the request as the first argument of `verify`. Default `false`. For `true`, type
         * the options with `true` as the type argument (e.g. `TwitterSignInStrategyOptions<true>`).
         */
        passReqToCallback?: false;
      };

// Columns<[a, b] | [c, d, e]> is [a | c, b | d, e?]: position by position, what any of the
// tuples has there, optional from where some tuple has ended.
type Heads<U> = U extends [infer H, ...unknown[]] ? H : never;
type Tails<U> = U extends [unknown, ...infer T] ? T : never;
type OptionalColumns<U> = [Exclude<U, []>] extends [never] ? [] : [Heads<U>?, ...OptionalColumns<Tails<U>>];
type Columns<U> = [U] extends [never] ? [] : [Extract<U, []>] extends [never] ? [Heads<U>, ...Columns<Tails<U>>] : OptionalColumns<U>;
