/**
 * nock, switched on only inside the suites that mock Twitter with it.
 *
 * Importing nock patches http and fetch for the whole process, and mocha loads every test file
 * into one process: left on, it would sit between the other suites and their real loopback
 * servers (it rewrites keep-alive into Connection: close, and cannot clone streamed fetch
 * bodies). So it is switched off as soon as it loads, and `useNock()` switches it on around one
 * suite, with the network closed except for loopback.
 */
import nock from 'nock';

nock.restore();

export { nock };

/** Call at the top of a `describe`: nock is active, and only loopback is reachable, within it. */
export function useNock(): void {
  before(() => {
    if (!nock.isActive()) nock.activate();
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => nock.cleanAll());
  after(() => {
    nock.cleanAll();
    nock.enableNetConnect();
    nock.restore();
  });
}
