import { sign, verify, type KeyObject } from 'node:crypto';
import type { AuditSigningKey } from './audit-signing-key';

/** A signed head of the chain, as stored (audit_checkpoints) and as exported to a file to keep elsewhere. */
export interface Checkpoint {
  /** Set for the head of that organisation's own chain (audit_organisation_links); absent for the whole chain. */
  organisationId?: string;
  /** How many events the chain had: the chainSeq of its last one (an organisation's: its orgSeq). */
  chainSeq: number;
  headHash: string;
  at: Date;
  keyId: string;
  /** Ed25519 over signedText, base64. */
  signature: string;
}

/** What a checkpoint's signature covers. Changing it invalidates every checkpoint signed before. */
export function signedText(c: Pick<Checkpoint, 'organisationId' | 'chainSeq' | 'headHash' | 'at' | 'keyId'>): string {
  const what = c.organisationId ? ['carethread-audit-organisation-checkpoint-v1', c.organisationId] : ['carethread-audit-checkpoint-v1'];
  return [...what, String(c.chainSeq), c.headHash, c.at.toISOString(), c.keyId].join('\n');
}

/** A checkpoint of a chain's head (with organisationId, of that organisation's chain), signed now with `key`. */
export function signCheckpoint(key: AuditSigningKey, head: { organisationId?: string; chainSeq: number; headHash: string }, at = new Date()): Checkpoint {
  const unsigned = { ...head, at, keyId: key.keyId };
  return { ...unsigned, signature: sign(null, Buffer.from(signedText(unsigned)), key.privateKey).toString('base64') };
}

/** Whether `publicKey` signed exactly this checkpoint. */
export function signatureHolds(publicKey: KeyObject, c: Checkpoint): boolean {
  return verify(null, Buffer.from(signedText(c)), publicKey, Buffer.from(c.signature, 'base64'));
}

/** A checkpoint as one line of JSON, to keep outside the database (`audit:verify --export`). */
export function exportCheckpoint(c: Checkpoint): string {
  return JSON.stringify({ ...(c.organisationId ? { organisationId: c.organisationId } : {}), chainSeq: c.chainSeq, headHash: c.headHash, at: c.at.toISOString(), keyId: c.keyId, signature: c.signature });
}

/** A kept checkpoint read back (`audit:verify --checkpoint`); throws a one-line Error when it is not one. */
export function importCheckpoint(text: string): Checkpoint {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('a kept checkpoint must be the JSON written by audit:verify --export');
  }
  const { organisationId, chainSeq, headHash, at, keyId, signature } = value ?? {};
  if (
    (organisationId !== undefined && typeof organisationId !== 'string') ||
    !Number.isInteger(chainSeq) ||
    (chainSeq as number) < 1 ||
    typeof headHash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(headHash) ||
    typeof at !== 'string' ||
    Number.isNaN(Date.parse(at)) ||
    typeof keyId !== 'string' ||
    typeof signature !== 'string'
  ) {
    throw new Error('a kept checkpoint needs chainSeq, headHash, at, keyId and signature as audit:verify --export writes them');
  }
  return { ...(organisationId ? { organisationId } : {}), chainSeq: chainSeq as number, headHash, at: new Date(at), keyId, signature };
}
