/**
 * The error answers the fake gives, in Twitter's own shapes, so a client's error handling is
 * exercised against the bodies it will meet in production.
 *
 * @see https://developer.twitter.com/en/support/twitter-api/error-troubleshooting
 */

/** One error answer: HTTP status plus Twitter's `{"errors":[{"code","message"}]}` entry. */
export interface TwitterError {
  status: number;
  /** Twitter's numeric error code; absent where Twitter's is not known. */
  code?: number;
  message: string;
}

/** Bad consumer key, bad signature, unsupported signature method or version, reused nonce. */
export const COULD_NOT_AUTHENTICATE: TwitterError = { status: 401, code: 32, message: 'Could not authenticate you.' };
/** `oauth_timestamp` more than the allowed skew away from the server's clock. */
export const TIMESTAMP_OUT_OF_BOUNDS: TwitterError = { status: 401, code: 135, message: 'Timestamp out of bounds.' };
/** Unknown, expired or already used token, or a verifier that does not match. */
export const INVALID_OR_EXPIRED_TOKEN: TwitterError = { status: 401, code: 89, message: 'Invalid or expired token.' };
/** A required OAuth parameter is missing, repeated, or cannot be parsed (RFC 5849 §3.2: 400). */
export const BAD_AUTHENTICATION_DATA: TwitterError = { status: 400, code: 215, message: 'Bad Authentication data.' };
/** Unknown path, or a known path with the wrong method. */
export const PAGE_DOES_NOT_EXIST: TwitterError = { status: 404, code: 34, message: 'Sorry, that page does not exist.' };
/** The request body is larger than the fake reads. */
export const BODY_TOO_LARGE: TwitterError = { status: 413, message: 'Request entity too large.' };
/** The fake itself failed; the process keeps serving. */
export const INTERNAL_ERROR: TwitterError = { status: 500, code: 131, message: 'Internal error.' };

export function twitterErrorBody(error: TwitterError): string {
  const entry = error.code === undefined ? { message: error.message } : { code: error.code, message: error.message };
  return JSON.stringify({ errors: [entry] });
}

/**
 * request_token with an `oauth_callback` the app did not register: Twitter answers 403 with this
 * XML body (not JSON), code 415.
 */
export const CALLBACK_NOT_APPROVED_XML =
  '<?xml version="1.0" encoding="UTF-8"?><errors><error code="415">Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings</error></errors>';

/**
 * The v2 API's answer (400) to a `user.fields` value it does not know; v2 errors are "problem"
 * objects, not the v1.1 `{code, message}` pairs.
 *
 * @see https://developer.twitter.com/en/support/twitter-api/error-troubleshooting#invalid-request
 */
export function invalidFieldsProblem(parameter: string, invalid: readonly string[], allowed: readonly string[]): unknown {
  return {
    errors: [
      {
        parameters: { [parameter]: invalid },
        message: `The \`${parameter}\` query parameter value [${invalid.join(',')}] is not one of [${allowed.join(',')}]`,
      },
    ],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.twitter.com/2/problems/invalid-request',
  };
}
