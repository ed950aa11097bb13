import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../logger';

/** The key that signs the audit checkpoints (audit-checkpoint.ts), with the id checkpoints name it by. */
export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** The settings of the key (src/config.ts): AUDIT_SIGNING_KEY parsed, and AUDIT_SIGNING_KEY_FILE or its default. */
export interface KeySettings {
  auditSigningKey: KeyObject | null;
  auditSigningKeyFile: string | null;
}

/** A key's id: the first 16 bytes (hex) of the SHA-256 of its public key (SPKI DER). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

/**
 * An Ed25519 private key as AUDIT_SIGNING_KEY gives it: PKCS8 PEM, or its DER
 * in base64 (a PEM's body on one line). Throws a one-line Error otherwise.
 */
export function parseSigningKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN') ? createPrivateKey(text) : createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('must be an Ed25519 private key, PKCS8 PEM or its DER in base64');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`must be an Ed25519 key (got ${key.asymmetricKeyType ?? 'an unknown type'})`);
  return key;
}

/**
 * The public keys of earlier signing keys, as AUDIT_RETIRED_KEYS gives them:
 * SPKI PEM blocks one after another, or their DER in base64 separated by
 * commas. Throws a one-line Error when one is not an Ed25519 public key.
 */
export function parseRetiredKeys(text: string): KeyObject[] {
  const parts = text.includes('-----BEGIN') ? (text.match(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g) ?? []) : text.split(',').map((p) => p.trim()).filter(Boolean);
  return parts.map((part, i) => {
    let key: KeyObject;
    try {
      key = part.startsWith('-----BEGIN') ? createPublicKey(part) : createPublicKey({ key: Buffer.from(part, 'base64'), format: 'der', type: 'spki' });
    } catch {
      throw new Error(`key ${i + 1} must be a public key, SPKI PEM or its DER in base64`);
    }
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') throw new Error(`key ${i + 1} must be an Ed25519 public key`);
    return key;
  });
}

const signingKeyOf = (privateKey: KeyObject): AuditSigningKey => {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};

/**
 * The server's checkpoint key: AUDIT_SIGNING_KEY, or else the development key
 * kept in the file of AUDIT_SIGNING_KEY_FILE, made there on first use so that
 * restarts keep it (with a warning: a key next to the data proves little), or,
 * with neither (an in-memory database), one for this process only.
 */
export function serverSigningKey(config: KeySettings, logger: Logger): AuditSigningKey {
  if (config.auditSigningKey) return signingKeyOf(config.auditSigningKey);
  const file = config.auditSigningKeyFile;
  // No warning: an in-memory database and its checkpoints end with the process, as this key does.
  if (!file) return signingKeyOf(generateKeyPairSync('ed25519').privateKey);
  const kept = readKeyFile(file);
  if (kept) {
    logger.warn({ file }, 'AUDIT_SIGNING_KEY is not set: audit checkpoints are signed with the development key kept in this file');
    return signingKeyOf(kept);
  }
  const made = generateKeyPairSync('ed25519').privateKey;
  mkdirSync(dirname(file), { recursive: true });
  try {
    // wx: another process starting at the same moment may have made one first; theirs wins.
    writeFileSync(file, made.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return serverSigningKey(config, logger);
  }
  logger.warn({ file }, 'AUDIT_SIGNING_KEY is not set: made a development key for the audit checkpoints and kept it in this file');
  return signingKeyOf(made);
}

/** The public key `npm run audit:verify` checks signatures with: of AUDIT_SIGNING_KEY, or of the development key file (never made here); null when there is none. */
export function verifyingKey(config: KeySettings): KeyObject | null {
  if (config.auditSigningKey) return createPublicKey(config.auditSigningKey);
  const kept = config.auditSigningKeyFile ? readKeyFile(config.auditSigningKeyFile) : null;
  return kept ? createPublicKey(kept) : null;
}

function readKeyFile(file: string): KeyObject | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return parseSigningKey(text);
  } catch (error) {
    throw new Error(`the audit signing key file ${file} (AUDIT_SIGNING_KEY_FILE) ${(error as Error).message}`);
  }
}
