import { MoreThan, type EntityManager } from 'typeorm';
import { Organisation } from '../organisations/organisation.entity';
import { GENESIS_HASH, organisationLinkHash } from './audit-chain';
import { signCheckpoint } from './audit-checkpoint';
import { AuditCheckpoint } from './audit-checkpoint.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditOrganisationLink } from './audit-organisation-link.entity';
import { firstOrganisationId } from './audit-scope';
import { chainedContents } from './audit-contents';
import type { AuditSigningKey } from './audit-signing-key';

/** A sealed event as linked: its place and hash in the whole chain, and the organisations it concerns. */
export interface SealedEvent {
  id: number;
  chainSeq: number;
  hash: string;
  organisationIds: string[];
}

interface OrganisationHead {
  orgSeq: number;
  hash: string;
}

/**
 * Each organisation's own chain (audit_organisation_links), kept up by the
 * sealer inside its rounds, behind the whole chain: every sealed event, in
 * chain order, becomes the next link of each organisation it concerns (of the
 * first organisation when it names none, as audit-scope.ts reads it). Then
 * signs a checkpoint of each organisation's chain that moved. What it
 * remembers holds while no other sealer linked meanwhile: reset() on taking
 * the turn, and whenever the chains moved on without it.
 */
export class OrganisationChains {
  private readonly heads = new Map<string, OrganisationHead>();
  /** The chainSeq of the last event linked; null until read. */
  private linkedTo: number | null = null;
  private first: string | null = null;
  /** Organisations whose chain moved since its last checkpoint; null until read. */
  private moved: Set<string> | null = null;

  reset(): void {
    this.heads.clear();
    this.linkedTo = null;
    this.first = null;
    this.moved = null;
  }

  /** Whether a chain may have moved since its last checkpoint. */
  get unsigned(): boolean {
    return this.moved === null || this.moved.size > 0;
  }

  /**
   * Links up to `limit` sealed events not linked yet, oldest first. `justSealed`,
   * the events this round sealed after chainSeq `after`, saves reading them again
   * once the chains have caught up. Returns how many events it linked.
   */
  async link(m: EntityManager, limit: number, justSealed: { after: number; events: SealedEvent[] }): Promise<number> {
    // On SQLite every instance seals, a round at a time: another may have linked since this one's last round.
    const linkedTo = await lastLinked(m);
    if (linkedTo !== this.linkedTo) {
      this.reset();
      this.linkedTo = linkedTo;
    }
    const events = justSealed.after === this.linkedTo ? justSealed.events.slice(0, limit) : await sealedAfter(m, this.linkedTo, limit);
    const links: AuditOrganisationLink[] = [];
    for (const event of events) {
      const organisations = event.organisationIds.length ? new Set(event.organisationIds) : [(this.first ??= await firstOrganisationId(m))];
      for (const organisationId of organisations) {
        const head = this.heads.get(organisationId) ?? (await headOf(m, organisationId));
        const next = { orgSeq: head.orgSeq + 1, hash: organisationLinkHash(head.hash, event.hash) };
        this.heads.set(organisationId, next);
        (this.moved ??= await movedSinceSigned(m)).add(organisationId);
        links.push({ organisationId, orgSeq: next.orgSeq, eventId: event.id, chainSeq: event.chainSeq, hash: next.hash });
      }
    }
    if (links.length) await m.insert(AuditOrganisationLink, links);
    if (events.length) this.linkedTo = events[events.length - 1].chainSeq;
    return events.length;
  }

  /** Signs a checkpoint of each organisation's chain that moved since its last one. */
  async sign(m: EntityManager, key: AuditSigningKey, at: Date): Promise<void> {
    this.moved ??= await movedSinceSigned(m);
    const checkpoints = [];
    for (const organisationId of this.moved) {
      const head = this.heads.get(organisationId) ?? (await headOf(m, organisationId));
      checkpoints.push(signCheckpoint(key, { organisationId, chainSeq: head.orgSeq, headHash: head.hash }, at));
    }
    if (checkpoints.length) await m.insert(AuditCheckpoint, checkpoints);
    this.moved.clear();
  }
}

async function lastLinked(m: EntityManager): Promise<number> {
  const last = await m.createQueryBuilder(AuditOrganisationLink, 'l').select('MAX(l.chainSeq)', 'chainSeq').getRawOne<{ chainSeq: number | null }>();
  return Number(last?.chainSeq ?? 0);
}

async function sealedAfter(m: EntityManager, chainSeq: number, limit: number): Promise<SealedEvent[]> {
  const events = await m.find(AuditEvent, { where: { chainSeq: MoreThan(chainSeq) }, order: { chainSeq: 'ASC' }, take: limit });
  const contents = await chainedContents(m, events);
  return events.map((e, i) => ({ id: e.id, chainSeq: e.chainSeq!, hash: e.hash!, organisationIds: contents[i].organisationIds }));
}

async function headOf(m: EntityManager, organisationId: string): Promise<OrganisationHead> {
  const last = await m.findOne(AuditOrganisationLink, { select: { orgSeq: true, hash: true }, where: { organisationId }, order: { orgSeq: 'DESC' } });
  return last ?? { orgSeq: 0, hash: GENESIS_HASH };
}

/** The organisations whose chain has links past its latest checkpoint: after another sealer stopped before signing. */
async function movedSinceSigned(m: EntityManager): Promise<Set<string>> {
  const rows = await m
    .createQueryBuilder(Organisation, 'o')
    .select('o.id', 'id')
    .addSelect((q) => q.select('MAX(l.orgSeq)').from(AuditOrganisationLink, 'l').where('l.organisationId = o.id'), 'linked')
    .addSelect((q) => q.select('MAX(c.chainSeq)').from(AuditCheckpoint, 'c').where('c.organisationId = o.id'), 'signed')
    .getRawMany<{ id: string; linked: number | null; signed: number | null }>();
  return new Set(rows.filter((r) => Number(r.linked ?? 0) > Number(r.signed ?? 0)).map((r) => r.id));
}
