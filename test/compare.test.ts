import { expect } from 'chai';
import { timingSafeEqualString } from '../lib/compare.js';

describe('timingSafeEqualString', () => {
  it('is true for equal strings and false for different ones, whatever their lengths', () => {
    expect(timingSafeEqualString('token-1', 'token-1')).to.equal(true);
    expect(timingSafeEqualString('token-1', 'token-2')).to.equal(false);
    expect(timingSafeEqualString('short', 'a much longer token')).to.equal(false);
    expect(timingSafeEqualString('', '')).to.equal(true);
  });
});
