import { expect } from 'chai';
import { approvePage, deniedPage, errorPage, escapeHTML, pinPage, signInPage } from '../../lib/testing/pages.js';

const HOSTILE = `<script>alert("x")</script>&'`;
const ESCAPED = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;';

describe('pages', () => {
  it('escapeHTML escapes the five characters that matter in text and attributes', () => {
    expect(escapeHTML(HOSTILE)).to.equal(ESCAPED);
  });

  it('escapes everything they print', () => {
    const pages = [
      signInPage({ appName: HOSTILE, accessType: 'write', oauthToken: HOSTILE, username: HOSTILE, error: HOSTILE }),
      approvePage({ appName: HOSTILE, accessType: 'read', oauthToken: HOSTILE, screenName: HOSTILE, allowLabel: 'Sign in' }),
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
    const signIn = signInPage({ appName: 'app', accessType: 'read', oauthToken: 't' });
    for (const id of ['username', 'password', 'allow', 'cancel']) expect(signIn).to.include(`id="${id}"`);
    const approve = approvePage({ appName: 'app', accessType: 'read', oauthToken: 't', screenName: 's', allowLabel: 'Authorize app' });
    for (const id of ['allow', 'cancel']) expect(approve).to.include(`id="${id}"`);
    expect(pinPage({ appName: 'app', pin: '1234567' })).to.include('<code id="pin">1234567</code>');
  });

  it('lets Cancel skip the required fields, so backing out needs no typing', () => {
    expect(signInPage({ appName: 'app', accessType: 'read', oauthToken: 't' })).to.match(/id="cancel"[^>]*formnovalidate/);
  });

  it('lists write permissions only for write access', () => {
    expect(signInPage({ appName: 'a', accessType: 'write', oauthToken: 't' })).to.include('Post and delete Tweets');
    expect(signInPage({ appName: 'a', accessType: 'read', oauthToken: 't' })).not.to.include('Post and delete Tweets');
  });
});
