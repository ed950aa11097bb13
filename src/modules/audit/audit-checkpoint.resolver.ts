import type { KeyObject } from 'node:crypto';
import { Query, Resolver } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer.decorator';
import type { User } from '../users/user.entity';
import { requireAdmin } from '../users/user-rules';
import { exportCheckpoint } from './audit-checkpoint';
import { SignedCheckpoint } from './audit-checkpoint.type';
import { latestCheckpoint } from './audit-verify';

@Resolver()
export class AuditCheckpointResolver {
  constructor(private readonly deps: { db: DataSource; publicKey: () => KeyObject }) {}

  @Query(() => SignedCheckpoint, {
    nullable: true,
    description:
      "Admins only: the latest signed checkpoint of their organisation's own audit chain, within a second or so of its newest event; null before its first. Keep it outside CareThread.",
  })
  async auditCheckpoint(@Viewer() viewer: User): Promise<SignedCheckpoint | null> {
    const organisationId = requireAdmin(viewer);
    const checkpoint = await latestCheckpoint(this.deps.db, organisationId);
    if (!checkpoint) return null;
    const publicKey = this.deps.publicKey().export({ type: 'spki', format: 'pem' }).toString();
    return { ...checkpoint, organisationId, events: checkpoint.chainSeq, publicKey, exported: exportCheckpoint(checkpoint) };
  }
}
