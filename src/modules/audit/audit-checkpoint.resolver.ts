import type { KeyObject } from 'node:crypto';
import { Query, Resolver } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer.decorator';
import type { User } from '../users/user.entity';
import { requireAdmin } from '../users/user-rules';
import { exportCheckpoint } from './audit-checkpoint';
import { SignedCheckpoint } from './audit-checkpoint.type';
import { keyIdOf } from './audit-signing-key';
import { latestCheckpoint } from './audit-verify';

@Resolver()
export class AuditCheckpointResolver {
  /** `publicKeys`: the signing key's public half, then the retired keys' (AUDIT_RETIRED_KEYS). */
  constructor(private readonly deps: { db: DataSource; publicKeys: () => KeyObject[] }) {}

  @Query(() => SignedCheckpoint, {
    nullable: true,
    description:
      "Admins only: the latest signed checkpoint of their organisation's own audit chain, within a second or so of its newest event; null before its first. Keep it outside CareThread.",
  })
  async auditCheckpoint(@Viewer() viewer: User): Promise<SignedCheckpoint | null> {
    const organisationId = requireAdmin(viewer);
    const checkpoint = await latestCheckpoint(this.deps.db, organisationId);
    if (!checkpoint) return null;
    // Just after a key change, the latest checkpoint may still be the retired key's.
    const signer = this.deps.publicKeys().find((key) => keyIdOf(key) === checkpoint.keyId) ?? this.deps.publicKeys()[0];
    const publicKey = signer.export({ type: 'spki', format: 'pem' }).toString();
    return { ...checkpoint, organisationId, events: checkpoint.chainSeq, publicKey, exported: exportCheckpoint(checkpoint) };
  }
}
