/**
 * Blanks OAuth values in text that may echo a signed request back: a provider's (or a mock's,
 * or a proxy's) error page, or a library's error message. Such text is kept on errors, and an
 * echoed Authorization header holds the verifier and the signature. Two ways, used together:
 * `redactOAuthParams` blanks whatever follows an `oauth_*` name; `redactValues` blanks the
 * values the client sent wherever, and however encoded, they appear.
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

/**
 * Values shorter than this are left alone: blanking a short value (`'1.0'`, `'true'`) would
 * blank it wherever it occurs, and it is too short to be a secret worth it.
 */
export const MIN_REDACTED_LENGTH = 6;

// OAuth's public protocol constants: never secret, and common words in any echo of a request.
const PUBLIC_VALUES = new Set(['HMAC-SHA1', 'HMAC-SHA256', 'RSA-SHA1', 'PLAINTEXT']);

// Layers of encoding peeled off: enough for a value encoded twice and then escaped for HTML or
// JSON (`&amp;#37;253D`), few enough that a deeply nested input costs a bounded number of passes.
const MAX_DECODE_DEPTH = 4;

const REDACTED = '[redacted]';

// The characters an escape can start with: percent-encoding, JSON/JavaScript, HTML.
const ESCAPE_STARTS = new Set(['%', '\\', '&']);

// HTML's named references that can stand for a character of an OAuth value or of an escape.
const NAMED_ENTITIES = new Map(Object.entries({
  amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', equals: '=', plus: '+', sol: '/', percnt: '%', num: '#', colon: ':', quest: '?',
}));
// The longest of those names.
const MAX_ENTITY_NAME = 6;

/**
 * `text` with every occurrence of each of `values` replaced by `[redacted]`, in whatever
 * encoding it appears: as is (`key => value`, bare), percent-encoded (upper or lower hex, once
 * or twice, UTF-8 for non-ASCII), as HTML numeric, hex or named character references
 * (`&#61;`, `&#x3D;`, `&equals;`), as JSON or JavaScript escapes (`\u003d`, `\x3d`, `\/`), and
 * any mix of these, character by character and layer over layer (up to four layers deep). A
 * value cut off at the very end of `text` (a body clipped to its first bytes) is redacted too.
 *
 * Meant for the values a client sent (token, verifier, signature, nonce, callback), so that
 * text from elsewhere that echoes the request (a mock's page, a proxy's error) cannot carry
 * them, whatever shape the echo takes. Values shorter than {@link MIN_REDACTED_LENGTH}, and
 * OAuth's signature-method names, are left alone.
 *
 * Linear in the length of `text` for a given set of values: each layer is decoded in one pass
 * and searched with Knuth-Morris-Pratt, with no regular expression to backtrack.
 */
export function redactValues(text: string, values: readonly string[]): string {
  const needles = needlesOf(values);
  if (needles.length === 0 || text.length === 0) return text;
  // +1 where a redacted span starts, -1 where it ends, over positions in `text`.
  const marks = new Int32Array(text.length + 1);
  let layer: Layer | undefined = rawLayer(text);
  for (let depth = 0; layer !== undefined; depth++) {
    for (const needle of needles) markMatches(layer, needle, marks);
    layer = depth < MAX_DECODE_DEPTH ? decodeLayer(layer) : undefined;
  }
  let out = '';
  let open = 0;
  let copied = 0;
  for (let i = 0; i <= text.length; i++) {
    const before = open;
    open += marks[i]!;
    if (before === 0 && open > 0) {
      out += text.slice(copied, i) + REDACTED;
    } else if (before > 0 && open === 0) {
      copied = i;
    }
  }
  return copied === 0 && out === '' ? text : out + text.slice(copied);
}

/** A text, and for each of its code units the span of the original text it was decoded from. */
interface Layer {
  text: string;
  start: Int32Array;
  end: Int32Array;
}

/** A value to find, with its Knuth-Morris-Pratt failure table. */
interface Needle {
  text: string;
  fail: Int32Array;
}

function needlesOf(values: readonly string[]): Needle[] {
  const forms = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length < MIN_REDACTED_LENGTH || PUBLIC_VALUES.has(value)) continue;
    // Percent-encoding spells a non-ASCII character as its UTF-8 bytes, which a layer decodes
    // one byte to one code unit: find that spelling too.
    for (const form of new Set([value, Buffer.from(value, 'utf8').toString('latin1')])) {
      forms.add(form);
      // A value holding escapes of its own (a callback URL's `%2F`) is decoded along with the
      // escapes around it: find it as each layer would leave it.
      let layer = decodeLayer(rawLayer(form));
      for (let depth = 1; layer !== undefined && depth <= MAX_DECODE_DEPTH; depth++) {
        if (layer.text.length >= MIN_REDACTED_LENGTH) forms.add(layer.text);
        layer = decodeLayer(layer);
      }
    }
  }
  return [...forms].map((text) => ({ text, fail: failureTable(text) }));
}

function failureTable(needle: string): Int32Array {
  const fail = new Int32Array(needle.length);
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle.charCodeAt(i) !== needle.charCodeAt(k)) k = fail[k - 1]!;
    if (needle.charCodeAt(i) === needle.charCodeAt(k)) k++;
    fail[i] = k;
  }
  return fail;
}

function rawLayer(text: string): Layer {
  const start = new Int32Array(text.length);
  const end = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    start[i] = i;
    end[i] = i + 1;
  }
  return { text, start, end };
}

/** Marks every occurrence of `needle` in `layer` (and a prefix of it that ends the text). */
function markMatches(layer: Layer, needle: Needle, marks: Int32Array): void {
  const { text } = layer;
  const m = needle.text.length;
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    while (k > 0 && c !== needle.text.charCodeAt(k)) k = needle.fail[k - 1]!;
    if (c === needle.text.charCodeAt(k)) k++;
    if (k === m) {
      marks[layer.start[i - m + 1]!]! += 1;
      marks[layer.end[i]!]! -= 1;
      k = needle.fail[k - 1]!;
    }
  }
  // The text stops inside a value: it was cut off there.
  if (k >= MIN_REDACTED_LENGTH) {
    marks[layer.start[text.length - k]!]! += 1;
    marks[layer.end[text.length - 1]!]! -= 1;
  }
}

/** One layer of every encoding decoded, or `undefined` when there was nothing to decode. */
function decodeLayer(layer: Layer): Layer | undefined {
  const { text } = layer;
  // Decoding never lengthens: an escape stands for at most two code units and spans at least two.
  const units = new Uint16Array(text.length);
  const start = new Int32Array(text.length);
  const end = new Int32Array(text.length);
  let n = 0;
  let decoded = false;
  for (let i = 0; i < text.length; ) {
    const escape = text.charCodeAt(i) < 0x80 && ESCAPE_STARTS.has(text[i]!) ? escapeAt(text, i) : undefined;
    if (escape === undefined) {
      units[n] = text.charCodeAt(i);
      start[n] = layer.start[i]!;
      end[n] = layer.end[i]!;
      n++;
      i++;
      continue;
    }
    decoded = true;
    const [chars, length] = escape;
    for (let c = 0; c < chars.length; c++) {
      units[n] = chars.charCodeAt(c);
      start[n] = layer.start[i]!;
      end[n] = layer.end[i + length - 1]!;
      n++;
    }
    i += length;
  }
  if (!decoded) return undefined;
  let out = '';
  for (let at = 0; at < n; at += 8192) out += String.fromCharCode(...units.subarray(at, Math.min(n, at + 8192)));
  return { text: out, start: start.subarray(0, n), end: end.subarray(0, n) };
}

/** The escape starting at `i`, as [what it stands for, how many code units it spans]. */
function escapeAt(text: string, i: number): [string, number] | undefined {
  const c = text[i];
  if (c === '%') {
    // RFC 3986 §2.1: a percent-encoded octet, either case of hex.
    const byte = hexValue(text, i + 1, 2);
    return byte === undefined ? undefined : [String.fromCharCode(byte), 3];
  }
  if (c === '\\') {
    const next = text[i + 1];
    if (next === 'u') {
      // JSON (RFC 8259 §7) and JavaScript: a UTF-16 code unit.
      const unit = hexValue(text, i + 2, 4);
      return unit === undefined ? undefined : [String.fromCharCode(unit), 6];
    }
    if (next === 'x') {
      const byte = hexValue(text, i + 2, 2);
      return byte === undefined ? undefined : [String.fromCharCode(byte), 4];
    }
    if (next === '/' || next === '\\' || next === '"' || next === "'") return [next, 2];
    return undefined;
  }
  if (c === '&') return characterReference(text, i);
  return undefined;
}

// HTML character references: `&#61;`, `&#x3D;` (the `;` may be missing, as HTML parsers allow),
// and a few named ones.
function characterReference(text: string, i: number): [string, number] | undefined {
  if (text[i + 1] === '#') {
    const hex = text[i + 2] === 'x' || text[i + 2] === 'X';
    let j = i + (hex ? 3 : 2);
    const digits = j;
    // Leading zeros are allowed, however many; then seven digits reach past U+10FFFF in either
    // base, and a longer run is not a reference.
    while (text[j] === '0') j++;
    let code = 0;
    const from = j;
    while (j < text.length && j - from < 7) {
      const d = digitValue(text.charCodeAt(j), hex ? 16 : 10);
      if (d < 0) break;
      code = code * (hex ? 16 : 10) + d;
      j++;
    }
    if (j === digits || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    if (text[j] === ';') j++;
    return [String.fromCodePoint(code), j - i];
  }
  // Looked for within the longest name only, so a text of '&'s costs a bounded look at each.
  const limit = Math.min(text.length, i + 2 + MAX_ENTITY_NAME);
  for (let j = i + 1; j < limit; j++) {
    if (text[j] !== ';') continue;
    const named = NAMED_ENTITIES.get(text.slice(i + 1, j));
    return named === undefined ? undefined : [named, j - i + 1];
  }
  return undefined;
}

function hexValue(text: string, at: number, digits: number): number | undefined {
  if (at + digits > text.length) return undefined;
  let value = 0;
  for (let j = at; j < at + digits; j++) {
    const d = digitValue(text.charCodeAt(j), 16);
    if (d < 0) return undefined;
    value = value * 16 + d;
  }
  return value;
}

function digitValue(code: number, base: 10 | 16): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (base === 16) {
    const lower = code | 0x20;
    if (lower >= 97 && lower <= 102) return lower - 87;
  }
  return -1;
}
