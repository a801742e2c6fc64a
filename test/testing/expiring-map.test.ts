import { expect } from 'chai';
import { ExpiringMap } from '../../lib/testing/expiring-map.js';
import { sleep } from './helpers.js';

describe('ExpiringMap', () => {
  it('forgets an entry once its time to live has passed', async () => {
    const map = new ExpiringMap<string, number>(30, 10);
    map.set('a', 1);
    expect(map.get('a')).to.equal(1);
    await sleep(50);
    expect(map.get('a')).to.equal(undefined);
    expect(map.has('a')).to.equal(false);
    expect(map.size).to.equal(0);
  });

  it('restarts the time to live when a key is set again', async () => {
    const map = new ExpiringMap<string, number>(60, 10);
    map.set('a', 1);
    map.set('b', 2);
    await sleep(40);
    map.set('a', 3);
    await sleep(40);
    expect(map.get('b')).to.equal(undefined);
    expect(map.get('a')).to.equal(3);
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
