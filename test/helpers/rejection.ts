import { expect } from 'chai';
import { TwitterSignInError } from '../../lib/index.js';

/** The `TwitterSignInError` that `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<TwitterSignInError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(TwitterSignInError);
    return err as TwitterSignInError;
  }
  throw new Error('expected a rejection');
}
