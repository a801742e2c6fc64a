import { expect } from 'chai';
import {
  accessTypePermissions,
  approvePage,
  deniedPage,
  errorPage,
  escapeHTML,
  pinPage,
  signInPage,
  type ConsentPage,
} from '../../lib/testing/pages.js';

const HOSTILE = `<script>alert("x")</script>&'`;
const ESCAPED = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;';

function consent(overrides: Partial<ConsentPage> = {}): ConsentPage {
  return { appName: 'app', permissions: accessTypePermissions('read'), action: '/oauth/decide', fields: [['oauth_token', 't']], ...overrides };
}

describe('pages', () => {
  it('escapeHTML escapes the five characters that matter in text and attributes', () => {
    expect(escapeHTML(HOSTILE)).to.equal(ESCAPED);
  });

  it('escapes everything they print', () => {
    const hostile = consent({ appName: HOSTILE, permissions: [HOSTILE], action: HOSTILE, fields: [[HOSTILE, HOSTILE]] });
    const pages = [
      signInPage({ ...hostile, username: HOSTILE, error: HOSTILE }),
      approvePage({ ...hostile, screenName: HOSTILE, allowLabel: 'Sign in', switchAccount: HOSTILE }),
      pinPage({ appName: HOSTILE, pin: HOSTILE }),
      deniedPage({ appName: HOSTILE }),
      errorPage(HOSTILE),
    ];
    for (const page of pages) {
      expect(page).not.to.include('<script>');
      expect(page).to.include(ESCAPED);
    }
  });

  it('gives the controls the stable ids browser tests use', () => {
    const signIn = signInPage(consent());
    for (const id of ['username', 'password', 'allow', 'cancel']) expect(signIn).to.include(`id="${id}"`);
    const approve = approvePage({ ...consent(), screenName: 's', allowLabel: 'Authorize app', switchAccount: '/x' });
    for (const id of ['allow', 'cancel']) expect(approve).to.include(`id="${id}"`);
    expect(pinPage({ appName: 'app', pin: '1234567' })).to.include('<code id="pin">1234567</code>');
  });

  it('posts to the given action with the given hidden fields', () => {
    const page = signInPage(consent({ action: '/i/oauth2/decide', fields: [['authorization', 'a1']] }));
    expect(page).to.include('<form method="post" action="/i/oauth2/decide">');
    expect(page).to.include('<input type="hidden" name="authorization" value="a1">');
  });

  it('lets Cancel skip the required fields, so backing out needs no typing', () => {
    expect(signInPage(consent())).to.match(/id="cancel"[^>]*formnovalidate/);
  });

  it('lists write permissions only for write access', () => {
    expect(signInPage(consent({ permissions: accessTypePermissions('write') }))).to.include('Post and delete Tweets');
    expect(signInPage(consent())).not.to.include('Post and delete Tweets');
  });

  it('says that any password works only when no accounts were configured', () => {
    expect(signInPage({ ...consent(), anyPassword: true })).to.include('accepts any username and password');
    expect(signInPage(consent())).not.to.include('any username and password');
  });
});
