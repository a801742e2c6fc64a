/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with openssl, for tests
 * that need the app itself on HTTPS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './services.js';

export interface Certificate {
  cert: Buffer;
  key: Buffer;
}

/**
 * Call in a mocha `before` hook (with `this`): skips, or fails under CI, without openssl.
 * `names` are further DNS names the certificate is for (wildcards allowed).
 */
export function selfSignedCertificate(ctx: Mocha.Context, names: string[] = []): Certificate {
  const openssl = requireBinary(ctx, 'openssl', 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'app-tls-'));
  try {
    execFileSync(openssl, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', `subjectAltName=${['DNS:localhost', 'IP:127.0.0.1', ...names.map((n) => `DNS:${n}`)].join(',')}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
