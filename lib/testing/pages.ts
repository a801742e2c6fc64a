/**
 * The HTML pages of the fake's browser flows, modelled on Twitter's: sign in and approve on one
 * screen, approve only, the PIN for `oob` clients, and the error pages. Both protocols use them;
 * each gives its own form target, hidden fields and permission lines.
 *
 * Every value printed goes through {@link escapeHTML}. The pages are given only what they show:
 * no token secret, consumer secret or password is ever passed in, so none can leak into one.
 * Stable element ids (`#username`, `#password`, `#allow`, `#cancel`, `#pin`) let browser tests
 * drive them.
 */

/** What the app asked for with `x_auth_access_type` (Twitter's default is the app's setting; here, read). */
export type AccessType = 'read' | 'write';

export function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Twitter's own wording on its authorization page.
export const READ_PERMISSIONS = [
  'See Tweets from your timeline (including protected Tweets) as well as your Lists and collections.',
  'See your Twitter profile information and account settings.',
  'See accounts you follow, mute, and block.',
];
export const WRITE_PERMISSIONS = [
  'Follow and unfollow accounts for you.',
  'Update your profile and account settings for you.',
  'Post and delete Tweets for you, and engage with Tweets posted by others.',
];

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)} / Fake Twitter</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem; color: #0f1419; }
label { display: block; margin-top: .75rem; }
input { display: block; width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
button { margin: 1rem .5rem 0 0; padding: .5rem 1.25rem; border-radius: 999px; border: 1px solid #536471; font-size: 1rem; }
#allow { background: #1d9bf0; color: #fff; border-color: #1d9bf0; }
#pin { font-size: 2rem; letter-spacing: .2em; }
.error { color: #f4212e; }
</style>
</head>
<body>
<p><strong>Fake Twitter</strong>: a local stand-in for X (Twitter), for development and tests.</p>
${content}
</body>
</html>
`;
}

/** What OAuth 1.0a's `x_auth_access_type` lets an app do, in Twitter's words. */
export function accessTypePermissions(accessType: AccessType): readonly string[] {
  return accessType === 'write' ? [...READ_PERMISSIONS, ...WRITE_PERMISSIONS] : READ_PERMISSIONS;
}

/** What every consent page shows and submits. */
export interface ConsentPage {
  /** The app asking, as its developer named it. */
  appName: string;
  /** What the app will be able to do, one line each. */
  permissions: readonly string[];
  /** Where the form posts. */
  action: string;
  /** Hidden fields that say which sign-in the form is for. */
  fields: readonly (readonly [string, string])[];
}

function permissions(page: ConsentPage): string {
  return `<h1>Authorize ${escapeHTML(page.appName)} to access your account?</h1>
<p>This application will be able to:</p>
<ul id="permissions">
${page.permissions.map((item) => `<li>${escapeHTML(item)}</li>`).join('\n')}
</ul>
<p>Will not be able to: see your Twitter password.</p>`;
}

function form(page: ConsentPage, inner: string): string {
  const hidden = page.fields.map(([name, value]) => `<input type="hidden" name="${escapeHTML(name)}" value="${escapeHTML(value)}">`);
  return `<form method="post" action="${escapeHTML(page.action)}">
${hidden.join('\n')}
${inner}
</form>`;
}

function buttons(allowLabel: string): string {
  // Cancel skips the `required` checks so a user can back out without typing anything.
  return `<button id="allow" type="submit" name="decision" value="allow">${escapeHTML(allowLabel)}</button>
<button id="cancel" type="submit" name="decision" value="cancel" formnovalidate>Cancel</button>`;
}

/**
 * Not signed in (or `force_login`): credentials and the permissions on one screen. `anyPassword`:
 * no accounts were configured, so any username and password sign in, and the page says so.
 */
export function signInPage(page: ConsentPage & { username?: string; error?: string; anyPassword?: boolean }): string {
  return layout(
    'Sign in',
    `${permissions(page)}
${page.error === undefined ? '' : `<p class="error" role="alert">${escapeHTML(page.error)}</p>`}
${page.anyPassword ? '<p id="any-password">This fake accepts any username and password: each new username becomes an account.</p>' : ''}
${form(
  page,
  `<label for="username">Username or email</label>
<input id="username" name="username" autocomplete="username" required value="${escapeHTML(page.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
${buttons('Sign in')}`,
)}`,
  );
}

/** Signed in but not yet approved (or an endpoint that always asks). `switchAccount`: signs in as someone else. */
export function approvePage(
  page: ConsentPage & { screenName: string; allowLabel: 'Authorize app' | 'Sign in'; switchAccount: string },
): string {
  return layout(
    page.allowLabel,
    `${permissions(page)}
<p>Signed in as <strong id="signed-in-as">@${escapeHTML(page.screenName)}</strong>.
<a href="${escapeHTML(page.switchAccount)}">Not you?</a></p>
${form(page, buttons(page.allowLabel))}`,
  );
}

/** `oob` clients: the verifier is shown for the user to type into the app. */
export function pinPage(page: { appName: string; pin: string }): string {
  return layout(
    'PIN',
    `<h1>You've granted access to ${escapeHTML(page.appName)}!</h1>
<p>Next, return to ${escapeHTML(page.appName)} and enter this PIN to complete the authorization process:</p>
<p><code id="pin">${escapeHTML(page.pin)}</code></p>`,
  );
}

/** Cancel on an `oob` sign-in: there is no callback to send the user back to. */
export function deniedPage(page: { appName: string }): string {
  return layout(
    'Cancelled',
    `<h1>You have not granted access to ${escapeHTML(page.appName)}.</h1>
<p>You can close this window.</p>`,
  );
}

/** An unknown, expired or used request token, or a form the fake cannot act on. */
export function errorPage(message: string): string {
  return layout('Error', `<h1>Whoa there!</h1>\n<p id="error">${escapeHTML(message)}</p>`);
}

/** Twitter's text for a request token it does not know. */
export const INVALID_TOKEN_MESSAGE =
  'The request token for this page is invalid. It may have already been used, or expired because it is too old. Please go back to the site or application that sent you here and try again; it was probably just a mistake.';
