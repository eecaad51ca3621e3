/**
 * Ed25519 keys and detached signatures over the exact compressed index bytes.
 *
 * Key files written by `enpkg repo keygen KEYFILE`: KEYFILE holds the private key (PKCS#8 PEM, mode
 * 0600); KEYFILE.pub holds the public key as one line of base64 (the raw 32 bytes), the form listed
 * under a repository's `keys` in the configuration. `index.json.zst.sig` is the base64 signature.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { readFailure, readRegularFileSync } from '../readfile.js';

export interface KeyPairFiles {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  /** Base64 of the raw public key. */
  readonly publicKey: string;
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/** Write a new key pair; refuses to overwrite an existing file unless `force`. */
export function writeKeyPair(privateKeyFile: string, opts: { force?: boolean } = {}): KeyPairFiles {
  const publicKeyFile = `${privateKeyFile}.pub`;
  for (const f of [privateKeyFile, publicKeyFile]) {
    if (!opts.force && existsSync(f)) {
      throw new PkgError(RepoErrorCodes.KEY_EXISTS, `${f} already exists`, {
        hint: 'choose another file name, or give --force to replace the key (indexes signed with the old key then fail to verify)',
        details: { file: f },
      });
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  writeFileSync(privateKeyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
  writeFileSync(publicKeyFile, `${raw}\n`, { mode: 0o644, flag: opts.force ? 'w' : 'wx' });
  return { privateKeyFile, publicKeyFile, publicKey: raw };
}

export function readPrivateKey(file: string): KeyObject {
  let text: string;
  try {
    text = readRegularFileSync(file).toString('utf8');
  } catch (e) {
    throw new PkgError(RepoErrorCodes.KEY_INVALID, `cannot read the signing key ${file}: ${readFailure(e)}`, {
      hint: 'create one with "enpkg repo keygen KEYFILE"',
      cause: e,
      details: { file },
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (e) {
    throw new PkgError(RepoErrorCodes.KEY_INVALID, `${file} is not a private key in PEM form`, {
      hint: 'give the private key file written by "enpkg repo keygen"',
      cause: e,
      details: { file },
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PkgError(RepoErrorCodes.KEY_INVALID, `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`, {
      hint: 'create one with "enpkg repo keygen KEYFILE"',
      details: { file },
    });
  }
  return key;
}

/** The base64 signature of `data`, as written to `index.json.zst.sig`. */
export function signIndex(data: Uint8Array, key: KeyObject): string {
  return `${sign(null, data, key).toString('base64')}\n`;
}

/** A configured public key (base64 of the raw 32 bytes); the error names where it was configured. */
export function parsePublicKey(text: string, where: string): KeyObject {
  const raw = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(text.trim()) ? Buffer.from(text.trim(), 'base64') : null;
  if (raw?.length !== 32) {
    throw new PkgError(RepoErrorCodes.KEY_INVALID, `${where}: "${text.slice(0, 60)}" is not an Ed25519 public key (base64 of 32 bytes)`, {
      hint: 'copy the one line of the .pub file written by "enpkg repo keygen"',
      details: { where },
    });
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Parse the signature file's text: base64 of 64 bytes; null when malformed. */
export function parseSignature(text: Buffer): Buffer | null {
  const s = text.toString('latin1').trim();
  if (!/^[A-Za-z0-9+/]{86}==$/.test(s)) return null;
  const sig = Buffer.from(s, 'base64');
  return sig.length === 64 ? sig : null;
}

/** True when any of `keys` verifies `signature` over `data`. */
export function verifySignature(data: Uint8Array, signature: Buffer, keys: readonly KeyObject[]): boolean {
  return keys.some((k) => verify(null, data, k, signature));
}
