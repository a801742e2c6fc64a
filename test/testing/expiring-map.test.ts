import { expect } from 'chai';
import { ExpiringMap } from '../../lib/testing/expiring-map.js';
import { ManualClock, sleep } from './helpers.js';

describe('ExpiringMap', () => {
  // On a clock moved by hand, so the checks hold to the millisecond however slowly they run.
  it('forgets an entry once its time to live has passed', () => {
    const clock = new ManualClock();
    const map = new ExpiringMap<string, number>(30, 10, clock.now);
    map.set('a', 1);
    clock.advance(29);
    expect(map.get('a')).to.equal(1);
    expect(map.size).to.equal(1);
    clock.advance(1);
    expect(map.get('a')).to.equal(undefined);
    expect(map.has('a')).to.equal(false);
    expect(map.size).to.equal(0);
  });

  it('restarts the time to live when a key is set again', () => {
    const clock = new ManualClock();
    const map = new ExpiringMap<string, number>(60, 10, clock.now);
    map.set('a', 1);
    map.set('b', 2);
    clock.advance(40);
    map.set('a', 3);
    clock.advance(40);
    // 80 ms after both were first set: b is gone, a lives 60 ms from when it was set again.
    expect(map.get('b')).to.equal(undefined);
    expect(map.get('a')).to.equal(3);
    clock.advance(19);
    expect(map.get('a')).to.equal(3);
    clock.advance(1);
    expect(map.get('a')).to.equal(undefined);
  });

  it('runs on the real clock by default', async () => {
    const map = new ExpiringMap<string, number>(20, 10);
    map.set('a', 1);
    // Read after set, so the entry's own time is no later. Wait on Date.now itself, not on a
    // timer alone: by Date.now's measure a timer may fire a little early.
    const setBy = Date.now();
    while (Date.now() < setBy + 20) await sleep(5);
    expect(map.has('a')).to.equal(false);
  });

  it('evicts the oldest entry when full', () => {
    const map = new ExpiringMap<string, number>(Infinity, 2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.has('a')).to.equal(false);
    expect(map.get('b')).to.equal(2);
    expect(map.get('c')).to.equal(3);
    expect(map.size).to.equal(2);
  });

  it('deletes on request', () => {
    const map = new ExpiringMap<string, number>(Infinity, 2);
    map.set('a', 1);
    map.delete('a');
    expect(map.has('a')).to.equal(false);
  });
});
