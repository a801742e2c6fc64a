import { expect } from 'chai';
import { redactOAuthParams, redactValues } from '../lib/redact.js';

const SIG = 'ab/cd+ef=';

describe('redactOAuthParams', () => {
  const cases: [string, string][] = [
    ['an Authorization header', `OAuth oauth_verifier="VERIFIER", oauth_signature="${encodeURIComponent(SIG)}"`],
    ['a form body', 'oauth_token=TOKEN&oauth_token_secret=SECRET&user_id=1'],
    ['JSON', `{"oauth_token_secret":"SECRET","oauth_signature":"${SIG}"}`],
    ['JSON with escaped slashes', '{"oauth_signature":"ab\\/cd+ef="}'],
    ['a header inside a JSON string', '{"authorization":"OAuth oauth_verifier=\\"VERIFIER\\",oauth_signature=\\"SIG%3D\\""}'],
    ['a header inside a JSON string inside a JSON string', '"OAuth oauth_verifier=\\\\\\"VERIFIER\\\\\\""'],
    ['HTML entities', 'oauth_verifier=&quot;VERIFIER&quot; oauth_signature=&#34;SIG&#34;'],
    ['Unicode escapes', 'oauth_verifier=\\u0022VERIFIER\\u0022'],
    ['a percent-encoded base string', 'POST&https%3A%2F%2Fx%2F&oauth_token%3DTOKEN%26oauth_verifier%3DVERIFIER%26oauth_version%3D1.0'],
    ['XML', '<r><oauth_token>TOKEN</oauth_token><oauth_token_secret>SECRET</oauth_token_secret></r>'],
    ['single quotes and spaces', "oauth_verifier = 'VERIFIER'"],
    ['a value cut off at the end', 'x oauth_signature="SIGNATU'],
    ['names with digits', 'oauth_body_hash2="VERIFIER"'],
  ];
  for (const [what, text] of cases) {
    it(`blanks every value in ${what}`, () => {
      const out = redactOAuthParams(text);
      for (const secret of ['VERIFIER', 'TOKEN', 'SECRET', 'SIG', SIG, 'ab\\/cd', 'SIGNATU']) {
        expect(out, out).not.to.include(secret);
      }
      expect(out).to.include('[redacted]');
    });
  }

  it('keeps the names and everything that is not an OAuth value', () => {
    expect(redactOAuthParams('oauth_token=T&user_id=12&screen_name=jack')).to.equal('oauth_token=[redacted]&user_id=12&screen_name=jack');
    expect(redactOAuthParams('{"errors":[{"code":32,"message":"Could not authenticate you."}]}')).to.equal(
      '{"errors":[{"code":32,"message":"Could not authenticate you."}]}',
    );
    expect(redactOAuthParams('no_oauth_token=kept')).to.equal('no_oauth_token=kept');
  });

  it('stays linear on a long run of names (no value after any of them)', () => {
    // A regular expression that backtracks over the run would take seconds on 1 MiB.
    const text = 'oauth_'.repeat(200_000);
    expect(redactOAuthParams(text)).to.equal(text);
  });
});

describe('redactValues', () => {
  const TOKEN = 'Z7mVb-ExAAAAAAAAq_Rj~kWc1.yT';
  const VERIFIER = 'hT4Vq9xLk2Zp7RmW3sYd8FbN6cJ1gE0u';
  const SIGNATURE = 'ab+cd/EF1Li3tvehgcraF8DMJ7O=';
  const NONCE = 'ea9ec8429b68d6b77cd5600adbbb0456';
  const CALLBACK = 'http://127.0.0.1:3000/auth/twitter/callback?next=%2Fhome';
  const PIN = '4829173';
  const VALUES = [TOKEN, VERIFIER, SIGNATURE, NONCE, CALLBACK, PIN];

  const hex = (c: string, width = 2) => c.charCodeAt(0).toString(16).toUpperCase().padStart(width, '0');
  // RFC 3986 percent-encoding, as OAuth uses it (RFC 5849 §3.6): all but the unreserved characters.
  const pct = (s: string) => s.replace(/[^A-Za-z0-9._~-]/g, (c) => `%${hex(c)}`);
  const pctLower = (s: string) => s.replace(/[^A-Za-z0-9._~-]/g, (c) => `%${hex(c).toLowerCase()}`);
  const each = (encode: (c: string) => string) => (s: string) => [...s].map(encode).join('');
  const encodings: [string, (s: string) => string][] = [
    ['as is', (s) => s],
    ['percent-encoded, upper-case hex', pct],
    ['percent-encoded, lower-case hex', pctLower],
    ['every character percent-encoded', each((c) => `%${hex(c)}`)],
    ['percent-encoded twice', (s) => pct(pct(s))],
    ['percent-encoded twice, lower-case hex', (s) => pctLower(pctLower(s))],
    ['as HTML decimal references', each((c) => `&#${c.charCodeAt(0)};`)],
    ['as HTML hex references', each((c) => `&#x${hex(c).toLowerCase()};`)],
    ['as HTML references with leading zeros and no semicolons', each((c) => `&#00${c.charCodeAt(0)}`)],
    ['HTML-escaped where HTML would, with named references', (s) => s.replace(/&/g, '&amp;').replace(/=/g, '&equals;').replace(/\//g, '&sol;').replace(/\+/g, '&plus;')],
    ['as JSON \\u escapes', each((c) => `\\u${hex(c, 4)}`)],
    ['as JSON \\u escapes, lower-case hex', each((c) => `\\u${hex(c, 4).toLowerCase()}`)],
    ['JSON-encoded with escaped slashes', (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/')],
    ['as \\x escapes', each((c) => `\\x${hex(c)}`)],
    ['in a mix, character by character', (s) => [...s].map((c, i) => [(x: string) => x, (x: string) => `%${hex(x)}`, (x: string) => `&#${x.charCodeAt(0)};`, (x: string) => `\\u${hex(x, 4)}`, (x: string) => `&#X${hex(x)};`][i % 5]!(c)).join('')],
    ['percent-encoded, then HTML-escaped (&#37;3D)', (s) => pct(s).replace(/%/g, '&#37;')],
    ['JSON-escaped, then percent-encoded', (s) => pct(each((c) => `\\u${hex(c, 4)}`)(s))],
    ['percent-encoded, then JSON-escaped', (s) => pct(s).replace(/%/g, '\\u0025')],
  ];
  for (const [how, encode] of encodings) {
    it(`blanks a value ${how}`, () => {
      for (const value of VALUES) {
        const text = `<p>${encode(value)}</p>`;
        expect(redactValues(text, VALUES), text).to.equal('<p>[redacted]</p>');
      }
    });
  }

  it('blanks a non-ASCII value as is, percent-encoded as UTF-8, and as HTML references', () => {
    const value = 'café-Ünïcode-verifier';
    for (const text of [value, encodeURIComponent(value), each((c) => `&#${c.codePointAt(0)};`)(value)]) {
      expect(redactValues(`[${text}]`, [value]), text).to.equal('[[redacted]]');
    }
  });

  it('blanks the echoes that redactOAuthParams leaves: an Authorization header percent-encoded, HTML-numeric, \\u003d JSON, key => value, bare', () => {
    const header = `OAuth oauth_nonce="${NONCE}", oauth_signature="${pct(SIGNATURE)}", oauth_token="${TOKEN}", oauth_verifier="${VERIFIER}"`;
    const echoes = [
      `<pre>Authorization: ${encodeURIComponent(header)}</pre>`,
      `<td>oauth_verifier&#61;${VERIFIER}&#38;oauth_token&#61;${TOKEN}&#38;oauth_signature&#61;${each((c) => `&#${c.charCodeAt(0)};`)(SIGNATURE)}</td>`,
      `{"body":"oauth_verifier\\u003d${VERIFIER}\\u0026oauth_token\\u003d${TOKEN}\\u0026oauth_signature\\u003d${SIGNATURE.replace('/', '\\/')}"}`,
      `Array ( [oauth_verifier] => ${VERIFIER} [oauth_token] => ${TOKEN} [oauth_signature] => ${SIGNATURE} )`,
      `unexpected request ${TOKEN} ${VERIFIER} ${SIGNATURE} ${NONCE}`,
    ];
    for (const echo of echoes) {
      const out = redactValues(redactOAuthParams(echo), VALUES);
      for (const value of [TOKEN, VERIFIER, SIGNATURE, NONCE, pct(SIGNATURE), SIGNATURE.replace('/', '\\/')]) {
        expect(out, out).not.to.include(value);
      }
      // What is not a value stays readable.
      expect(out).to.match(/oauth_|Authorization|Array|unexpected/);
    }
  });

  it('blanks a value cut off at the end of the text (a clipped body)', () => {
    expect(redactValues(`oauth_verifier=${VERIFIER.slice(0, 12)}`, VALUES)).to.equal('oauth_verifier=[redacted]');
    expect(redactValues(`a=${pct(SIGNATURE).slice(0, 14)}`, VALUES)).to.equal('a=[redacted]');
    expect(redactValues(`text ends with ${VERIFIER.slice(0, 5)}`, VALUES), 'too short a piece to tell').to.equal(`text ends with ${VERIFIER.slice(0, 5)}`);
  });

  it('blanks overlapping and adjacent values as one', () => {
    expect(redactValues(`x${TOKEN}${VERIFIER}y`, VALUES)).to.equal('x[redacted]y');
    expect(redactValues('abcdefgh', ['abcdef', 'cdefgh'])).to.equal('[redacted]');
    expect(redactValues('aaaaaaaaa!', ['aaaaaa'])).to.equal('[redacted]!');
  });

  it("leaves everything else alone, and values under six characters and OAuth's method names unredacted", () => {
    const text = 'oauth_signature_method="HMAC-SHA1", oauth_version="1.0", oauth_callback_confirmed=true, user_id=12';
    expect(redactValues(text, ['HMAC-SHA1', '1.0', 'true', '12', '', 'PLAINTEXT'])).to.equal(text);
    expect(redactValues(text, [])).to.equal(text);
    expect(redactValues('', VALUES)).to.equal('');
    expect(redactValues('%zz &#; &#xZZ; \\u12 \\q &bogus; &#0; &#1114112; %', VALUES)).to.equal('%zz &#; &#xZZ; \\u12 \\q &bogus; &#0; &#1114112; %');
    expect(redactValues('&constructor; &__proto__; &toString;', VALUES)).to.equal('&constructor; &__proto__; &toString;');
  });

  it('stays linear on large hostile inputs', function () {
    this.timeout(20_000);
    const MiB = 2 ** 20;
    const hostile = [
      'a'.repeat(MiB), // against a value of a's and then a b: a naive search restarts at every a
      '%25'.repeat(MiB / 3),
      `%${'25'.repeat(MiB / 2)}3D`, // nested far deeper than the layers peeled
      '&'.repeat(MiB),
      '&#'.repeat(MiB / 2),
      `&#${'0'.repeat(MiB)}`,
      '\\u'.repeat(MiB / 2),
      '\\'.repeat(MiB),
      '%2526%2523%2561'.repeat(MiB / 15),
      `${'%61'.repeat(MiB / 6)}${'a'.repeat(MiB / 2)}`,
    ];
    const values = [...VALUES, `${'a'.repeat(40)}b`];
    for (const text of hostile) {
      const started = Date.now();
      redactValues(text, values);
      // About 0.1 to 0.4 s each on this machine; anything quadratic takes hours.
      expect(Date.now() - started, text.slice(0, 20)).to.be.below(4000);
    }
  });
});
