import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { resolveCallbackURL } from '../lib/callback-url.js';

function req(headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { headers, socket: { encrypted } } as unknown as IncomingMessage;
}

describe('resolveCallbackURL', () => {
  it('returns an absolute callback URL unchanged', () => {
    expect(resolveCallbackURL('https://app.example/cb', req({ host: 'other' }), true)).to.equal('https://app.example/cb');
  });

  it('resolves a relative one against the Host, over http or https by the socket', () => {
    expect(resolveCallbackURL('/cb', req({ host: 'localhost:3000' }), false)).to.equal('http://localhost:3000/cb');
    expect(resolveCallbackURL('/cb', req({ host: 'app.example' }, true), false)).to.equal('https://app.example/cb');
  });

  it('ignores X-Forwarded-* from an untrusted client', () => {
    const r = req({ host: 'app.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' });
    expect(resolveCallbackURL('/cb', r, false)).to.equal('http://app.example/cb');
  });

  it('uses the first X-Forwarded-Proto and X-Forwarded-Host of a trusted proxy chain', () => {
    const r = req({ host: 'internal:8080', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'app.example, internal' });
    expect(resolveCallbackURL('/cb', r, true)).to.equal('https://app.example/cb');
  });

  it("asks Express's trust proxy function about the connecting address when the choice is left to Express", () => {
    const headers = { host: 'internal:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example:8443' };
    const asked: unknown[] = [];
    const withTrust = (trusts: boolean) =>
      Object.assign(req(headers), {
        socket: { encrypted: false, remoteAddress: '10.0.0.7' },
        app: { get: (name: string) => (name === 'trust proxy fn' ? (addr: string, i: number) => (asked.push([addr, i]), trusts) : undefined) },
      }) as unknown as IncomingMessage;
    expect(resolveCallbackURL('/cb', withTrust(true), undefined)).to.equal('https://app.example:8443/cb');
    expect(resolveCallbackURL('/cb', withTrust(false), undefined)).to.equal('http://internal:8080/cb');
    expect(asked[0]).to.deep.equal(['10.0.0.7', 0]);
    expect(resolveCallbackURL('/cb', req(headers), undefined), 'no Express: not trusted').to.equal('http://internal:8080/cb');
  });

  it('ignores an X-Forwarded-Proto that is neither http nor https', () => {
    const r = req({ host: 'app.example', 'x-forwarded-proto': 'javascript' });
    expect(resolveCallbackURL('/cb', r, true)).to.equal('http://app.example/cb');
  });
});
