import { In, MoreThan, type DataSource } from 'typeorm';
import { chainHash, organisationLinkHash, type ChainedContent } from './audit-chain';
import { chainedContents } from './audit-contents';
import { AuditEvent } from './audit-event.entity';
import { AuditOrganisationLink } from './audit-organisation-link.entity';
import { firstOrganisationId, ofOrganisation } from './audit-scope';
import { CHANGED, endReport, markFound, startReport, type ChainBreak, type ChainReport, type VerifyOptions } from './audit-verify';

/**
 * Walks one organisation's own chain (audit_organisation_links) in order and
 * checks each link: the event it names is in the whole chain at the place the
 * link records, its content still matches its hash, it concerns the
 * organisation, and the link hashes onto the one before over the event's hash.
 * Then that every sealed event of the organisation that the chains have
 * reached has its link, and the chain against the organisation's latest
 * signed checkpoint (and a kept one). Reads no event of any other
 * organisation: what one organisation can check of its own log.
 */
export async function verifyOrganisationChain(db: DataSource, organisationId: string, options: VerifyOptions): Promise<ChainReport> {
  const chunkSize = options.chunkSize ?? 5_000;
  const { report, named } = await startReport(db, options, organisationId);
  const first = await firstOrganisationId(db.manager);
  const concerns = (organisationIds: string[]) => (organisationIds.length ? organisationIds.includes(organisationId) : organisationId === first);

  walk: for (;;) {
    const links = await db.manager.find(AuditOrganisationLink, { where: { organisationId, orgSeq: MoreThan(report.events) }, order: { orgSeq: 'ASC' }, take: chunkSize });
    if (!links.length) break;
    const events = await db.manager.find(AuditEvent, { where: { id: In(links.map((l) => l.eventId)) } });
    const contents = new Map((await chainedContents(db.manager, events)).map((content, i) => [events[i].id, content]));
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const link of links) {
      const event = byId.get(link.eventId);
      const problem = linkProblem(link, event && { event, content: contents.get(event.id)! }, report, concerns);
      if (problem) {
        report.broken = { eventId: link.eventId, problem };
        break walk;
      }
      report.events++;
      report.head = link.hash;
      if (link.hash === options.anchor) report.anchorEventId = link.eventId;
      markFound(named, link.orgSeq, link.hash);
    }
  }
  if (!report.broken) report.broken = await unlinkedEvent(db, organisationId);
  return endReport(report, named, options);
}

/** What is wrong with one link of the chain walked so far (`report`), if anything. */
function linkProblem(
  link: AuditOrganisationLink,
  linked: { event: AuditEvent; content: ChainedContent } | undefined,
  report: ChainReport,
  concerns: (organisationIds: string[]) => boolean,
): string | null {
  if (!linked || linked.event.chainSeq !== link.chainSeq) return `the chain no longer has this event at place ${link.chainSeq}, where it was linked: it was removed or moved`;
  const { event, content } = linked;
  if (chainHash(event.prevHash!, content) !== event.hash) return CHANGED;
  if (!concerns(content.organisationIds)) return 'it no longer concerns this organisation: its organisations were changed';
  if (link.orgSeq !== report.events + 1 || link.hash !== organisationLinkHash(report.head, event.hash)) {
    return `its link to ${report.events ? 'the event before it' : 'the start'} of the organisation's chain is broken: one of its events was removed, inserted or moved`;
  }
  return null;
}

/** A sealed event of the organisation, no later than the last one linked, that its chain does not link: the link was removed. */
async function unlinkedEvent(db: DataSource, organisationId: string): Promise<ChainBreak | null> {
  const q = db.manager.createQueryBuilder(AuditEvent, 'e');
  const linkedTo = q.subQuery().select('MAX(ll.chainSeq)').from(AuditOrganisationLink, 'll').getQuery();
  const linked = q.subQuery().select('1').from(AuditOrganisationLink, 'l').where('l.eventId = e.id AND l.organisationId = :organisationId').getQuery();
  const missing = await ofOrganisation(q.select('MIN(e.chainSeq)', 'chainSeq').where(`e.chainSeq <= ${linkedTo}`), organisationId)
    .andWhere(`NOT EXISTS ${linked}`, { organisationId })
    .getRawOne<{ chainSeq: number | null }>();
  if (missing?.chainSeq == null) return null;
  const event = await db.manager.findOneByOrFail(AuditEvent, { chainSeq: Number(missing.chainSeq) });
  return { eventId: event.id, problem: "it concerns this organisation but is not in its chain: its link was removed" };
}
