/**
 * Blanks the values of OAuth parameters in text that may echo a signed request back: a
 * provider's (or a mock's, or a proxy's) error page, or a library's error message. Such text
 * is kept on errors, and an echoed Authorization header holds the verifier and the signature.
 */

// An oauth_* name (not inside a longer word, unless right after a percent-encoded `&`; at most
// 64 characters, so a long run of names cannot make the engine backtrack far), then `=`, `:` or
// a percent-encoded `=`, possibly after quotes that are escaped once or more (a header inside a
// JSON string), then the value: up to the next separator, or the end of a cut-off text. A value's own quotes (plain, escaped,
// `&quot;`, `\u0022`) are swallowed with it; a percent-encoded `&` ends it.
const OAUTH_PARAM =
  /(?:(?<=%(?:25)?26)|(?<![A-Za-z0-9_]))(oauth_[A-Za-z0-9_]{1,64})(\\*["']?\s*(?:[=:]|%3D|%253D)\s*)((?:&quot;|&#34;)?(?:[^&\s,<>;%]|%(?!26|2526))*(?:&quot;|&#34;)?)/gi;
// <oauth_token>value</oauth_token>
const OAUTH_ELEMENT = /(<oauth_[A-Za-z0-9_]{1,64}>)[^<]*/gi;

/** `text` with the value of every `oauth_*` parameter in it replaced by `[redacted]`. */
export function redactOAuthParams(text: string): string {
  if (!/oauth_/i.test(text)) return text;
  return text.replace(OAUTH_PARAM, '$1$2[redacted]').replace(OAUTH_ELEMENT, '$1[redacted]');
}
