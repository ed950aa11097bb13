import { generateKeyPairSync } from 'node:crypto';
import { exportCheckpoint, importCheckpoint, signatureHolds, signCheckpoint, signedText } from '../../src/modules/audit/audit-checkpoint';
import { keyIdOf } from '../../src/modules/audit/audit-signing-key';

// A checkpoint signs the chain's length and head (src/modules/audit/audit-checkpoint.ts);
// test/audit-chain.test.ts checks them against a real chain.

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};
const key = pair();
const head = { chainSeq: 42, headHash: 'a'.repeat(64) };
const at = new Date('2026-01-02T03:04:05.678Z');

test('the signed text names the version, the count, the head, the time and the key', () => {
  expect(signedText({ ...head, at, keyId: 'k1' })).toBe(`carethread-audit-checkpoint-v1\n42\n${'a'.repeat(64)}\n2026-01-02T03:04:05.678Z\nk1`);
});

test('a signature holds for exactly what was signed, with that key', () => {
  const checkpoint = signCheckpoint(key, head, at);
  expect(checkpoint).toMatchObject({ ...head, at, keyId: key.keyId });
  expect(signatureHolds(key.publicKey, checkpoint)).toBe(true);
  for (const change of [{ chainSeq: 41 }, { headHash: 'b'.repeat(64) }, { at: new Date(at.getTime() + 1) }, { keyId: pair().keyId }]) {
    expect([change, signatureHolds(key.publicKey, { ...checkpoint, ...change })]).toEqual([change, false]);
  }
  expect(signatureHolds(pair().publicKey, checkpoint)).toBe(false);
});

test('exported and read back unchanged; anything else read back is refused with one line', () => {
  const checkpoint = signCheckpoint(key, head, at);
  expect(importCheckpoint(exportCheckpoint(checkpoint))).toEqual(checkpoint);
  for (const text of ['', 'not json', 'null', '{}', exportCheckpoint({ ...checkpoint, headHash: 'x' }), exportCheckpoint({ ...checkpoint, chainSeq: 0 })]) {
    expect(() => importCheckpoint(text)).toThrow(/^a kept checkpoint (must be|needs)/);
  }
});

test('a key id is the first 16 bytes of the SHA-256 of the public key: the same for the same key, different for another', () => {
  expect(key.keyId).toMatch(/^[0-9a-f]{32}$/);
  expect(keyIdOf(key.publicKey)).toBe(key.keyId);
  expect(pair().keyId).not.toBe(key.keyId);
});
