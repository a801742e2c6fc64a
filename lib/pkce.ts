/**
 * The random values of an OAuth 2.0 sign-in: PKCE's code verifier and challenge, and `state`.
 *
 * Only S256 is made: with `plain` the challenge is the verifier, so anyone who sees the
 * authorize URL (browser history, a proxy log, a Referer) could redeem a stolen code.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636 (Proof Key for Code Exchange)
 */
import { createHash, randomBytes } from 'node:crypto';

export interface PKCE {
  /** The secret half, kept for the token request: 43 characters of base64url (256 random bits). */
  codeVerifier: string;
  /** `BASE64URL(SHA256(codeVerifier))`, sent in the authorize URL. */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/**
 * A fresh code verifier and its S256 challenge. 32 random bytes make 43 base64url characters,
 * RFC 7636 §4.1's minimum, all from its unreserved alphabet.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export function createPKCE(): PKCE {
  const codeVerifier = randomBytes(32).toString('base64url');
  return { codeVerifier, codeChallenge: codeChallengeS256(codeVerifier), codeChallengeMethod: 'S256' };
}

/**
 * The S256 challenge of a verifier: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export function codeChallengeS256(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/**
 * A fresh `state`: 256 random bits, base64url (43 characters; X accepts up to 500). It ties the
 * callback to the browser that started the sign-in (RFC 6749 §10.12, login CSRF).
 */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}
