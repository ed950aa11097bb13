import type {
  AuditEvent as FhirAuditEvent,
  AuditEventAgent,
  AuditEventEntity,
  Coding,
  CodeableConcept,
  Extension,
  Reference,
} from 'fhir/r4';
import { UserKind } from '../users/user-kind';
import type { User } from '../users/user.entity';
import { AuditAction } from './audit-action';
import { AuditOutcome, AuditRole, type AuditEvent } from './audit-event.entity';
import type { DeliveryRecipient } from './audit.service';

/**
 * One audit event as a FHIR R4 AuditEvent resource
 * (https://hl7.org/fhir/R4/auditevent.html), for `npm run audit:export`.
 *
 * - `type`: DICOM 110110 "Patient Record" for what touches a patient's
 *   messages (threads, messages, participants, reads, live deliveries, record
 *   sharing); DICOM 110101 "Audit Log Used" for reads and searches of the
 *   audit trail; DICOM 110114 "User Authentication" for signing out;
 *   audit-event-type `rest` (an operation of the API) for the administration
 *   of users and teams and a change of password. `subtype` is our action code.
 * - `action`: C/R/U/D/E as in FHIR_ACTIONS below, the one table.
 * - `outcome`: 0 success; 4 (minor failure) for DENIED, `outcomeDesc` the reason.
 * - `agent`: the actor (requestor) as Practitioner/<id> or Patient/<id>, role
 *   from `actorRole`, the client IP as its network address; for
 *   MESSAGE_DELIVERED one more agent (not requestor) per recipient.
 * - `source`: site CareThread, observer the server instance that wrote it.
 * - `entity`: each patient the event concerns (Patient/<id>, role Patient),
 *   the thread, message and team as identifiers, the subject user.
 * - extensions: the chain hash and the one before it (compare with
 *   `npm run audit:verify`), the request id; on the actor agent, the user agent
 *   and the team it acted through.
 */

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const SECURITY_SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';

/** Our own code systems and extensions. */
export const CARETHREAD = {
  action: 'urn:carethread:audit-action',
  role: 'urn:carethread:audit-role',
  thread: 'urn:carethread:thread',
  message: 'urn:carethread:message',
  team: 'urn:carethread:team',
  hash: 'urn:carethread:audit-hash',
  prevHash: 'urn:carethread:audit-prev-hash',
  requestId: 'urn:carethread:request-id',
  userAgent: 'urn:carethread:user-agent',
  viaTeam: 'urn:carethread:via-team',
} as const;

export const SOURCE_SITE = 'CareThread';

const PATIENT_RECORD: Coding = { system: DCM, code: '110110', display: 'Patient Record' };
const AUDIT_LOG_USED: Coding = { system: DCM, code: '110101', display: 'Audit Log Used' };
const API_OPERATION: Coding = { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' };
const USER_AUTHENTICATION: Coding = { system: DCM, code: '110114', display: 'User Authentication' };

type FhirAction = NonNullable<FhirAuditEvent['action']>;

/**
 * Every action's FHIR type and action code, in one place; a new AuditAction
 * does not compile until it is added here. Leaving a thread or a team is U:
 * the thread or team is what changed, and it goes on existing (D would say it
 * was deleted). Searching the audit trail is E, FHIR's code for a query.
 */
export const FHIR_ACTIONS: Readonly<Record<AuditAction, { type: Coding; action: FhirAction }>> = {
  [AuditAction.ThreadCreated]: { type: PATIENT_RECORD, action: 'C' },
  [AuditAction.MessageSent]: { type: PATIENT_RECORD, action: 'C' },
  [AuditAction.ThreadRead]: { type: PATIENT_RECORD, action: 'R' },
  [AuditAction.MessageDelivered]: { type: PATIENT_RECORD, action: 'R' },
  [AuditAction.ThreadMarkedRead]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.ParticipantAdded]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.ParticipantLeft]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.RecordShared]: { type: PATIENT_RECORD, action: 'C' },
  [AuditAction.AuditTrailRead]: { type: AUDIT_LOG_USED, action: 'R' },
  [AuditAction.AccessLogRead]: { type: AUDIT_LOG_USED, action: 'R' },
  [AuditAction.AuditSearched]: { type: AUDIT_LOG_USED, action: 'E' },
  [AuditAction.UserCreated]: { type: API_OPERATION, action: 'C' },
  [AuditAction.TeamCreated]: { type: API_OPERATION, action: 'C' },
  [AuditAction.ContactableChanged]: { type: API_OPERATION, action: 'U' },
  [AuditAction.UserDisabled]: { type: API_OPERATION, action: 'U' },
  [AuditAction.UserEnabled]: { type: API_OPERATION, action: 'U' },
  [AuditAction.TeamMemberAdded]: { type: API_OPERATION, action: 'U' },
  [AuditAction.TeamMemberRemoved]: { type: API_OPERATION, action: 'U' },
  [AuditAction.TeamAutoCcChanged]: { type: API_OPERATION, action: 'U' },
  [AuditAction.PlatformAdminGranted]: { type: API_OPERATION, action: 'U' },
  [AuditAction.OrganisationCreated]: { type: API_OPERATION, action: 'C' },
  [AuditAction.OrganisationAutoCcChanged]: { type: API_OPERATION, action: 'U' },
  [AuditAction.OrganisationRenamed]: { type: API_OPERATION, action: 'U' },
  [AuditAction.ThreadAssigned]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.ThreadUnassigned]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.ThreadMarkedDone]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.ThreadReopened]: { type: PATIENT_RECORD, action: 'U' },
  // The alert shows the waiting message's thread to the members, like a delivery.
  [AuditAction.ThreadEscalated]: { type: PATIENT_RECORD, action: 'R' },
  [AuditAction.TeamWaitingLimitChanged]: { type: API_OPERATION, action: 'U' },
  [AuditAction.TeamCoverageMinimumChanged]: { type: API_OPERATION, action: 'U' },
  [AuditAction.ParticipantRemoved]: { type: PATIENT_RECORD, action: 'U' },
  [AuditAction.AbsenceRecorded]: { type: API_OPERATION, action: 'C' },
  [AuditAction.AbsenceCancelled]: { type: API_OPERATION, action: 'D' },
  [AuditAction.ExternalIdentityLinked]: { type: API_OPERATION, action: 'U' },
  [AuditAction.SignedOut]: { type: USER_AUTHENTICATION, action: 'E' },
  [AuditAction.SignedOutEverywhere]: { type: USER_AUTHENTICATION, action: 'E' },
  [AuditAction.PasswordChanged]: { type: API_OPERATION, action: 'U' },
  // Telling someone that a message waits runs a function of the system; it shows them nothing of the record.
  [AuditAction.NotificationSent]: { type: PATIENT_RECORD, action: 'E' },
  [AuditAction.NotificationSettingsChanged]: { type: API_OPERATION, action: 'U' },
  // An upload is part of the record once sent: until then its uploader's own.
  [AuditAction.AttachmentUploaded]: { type: PATIENT_RECORD, action: 'C' },
  [AuditAction.AttachmentRead]: { type: PATIENT_RECORD, action: 'R' },
};

const OUTCOMES: Readonly<Record<AuditOutcome, NonNullable<FhirAuditEvent['outcome']>>> = {
  [AuditOutcome.SUCCESS]: '0',
  [AuditOutcome.DENIED]: '4',
};

/** What the mapping needs to know of a user: the name to show, and whether they are a Patient or a Practitioner. */
export type FhirUser = Pick<User, 'name' | 'kind'>;

/** Users by id; a user missing from it is still referenced, without a name. */
export type FhirUsers = ReadonlyMap<string, FhirUser>;

/** The event (with the patients it concerns, as AuditSearchService.export yields it) as a FHIR R4 AuditEvent. Pure. */
export function toFhirAuditEvent(event: AuditEvent, patientIds: readonly string[], users: FhirUsers): FhirAuditEvent {
  const mapping = FHIR_ACTIONS[event.action];
  if (!mapping) throw new Error(`audit event ${event.id} has an unknown action ${JSON.stringify(event.action)}`);
  const outcome = OUTCOMES[event.outcome];
  if (!outcome) throw new Error(`audit event ${event.id} has an unknown outcome ${JSON.stringify(event.outcome)}`);
  const person = (id: string, role: AuditRole | null): Reference => {
    const user = users.get(id);
    const patient = user ? user.kind === UserKind.PATIENT : role === AuditRole.PATIENT || patientIds.includes(id);
    return { reference: `${patient ? 'Patient' : 'Practitioner'}/${id}`, ...(user ? { display: user.name } : {}) };
  };

  const actor: AuditEventAgent = {
    who: person(event.actorId, event.actorRole),
    requestor: true,
    role: [roleConcept(event.actorRole)],
    ...(event.clientIp ? { network: { address: event.clientIp, type: '2' as const } } : {}),
    ...extensions([
      event.userAgent && { url: CARETHREAD.userAgent, valueString: event.userAgent },
      event.actorTeamId && { url: CARETHREAD.viaTeam, valueIdentifier: { system: CARETHREAD.team, value: event.actorTeamId } },
    ]),
  };
  const recipients: AuditEventAgent[] = event.action === AuditAction.MessageDelivered ? deliveryRecipients(event).map((r) => ({
    type: { coding: [{ system: PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' }] },
    who: person(r.id, r.role),
    requestor: false,
    ...(r.role ? { role: [roleConcept(r.role)] } : {}),
    ...extensions([r.teamId && { url: CARETHREAD.viaTeam, valueIdentifier: { system: CARETHREAD.team, value: r.teamId } }]),
  })) : [];

  const entities: AuditEventEntity[] = [
    ...patientIds.map((id) => ({
      what: person(id, AuditRole.PATIENT),
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    })),
    ...(event.threadId ? [systemObject(CARETHREAD.thread, event.threadId, 'thread')] : []),
    ...(event.messageId ? [systemObject(CARETHREAD.message, event.messageId, 'message')] : []),
    ...(event.teamId
      ? [{ ...systemObject(CARETHREAD.team, event.teamId, 'team'), role: { system: OBJECT_ROLE, code: '12', display: 'Security User Group' } }]
      : []),
    ...(event.subjectUserId
      ? [
          {
            what: person(event.subjectUserId, null),
            type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
            role: { system: OBJECT_ROLE, code: '6', display: 'User' },
            description: 'the user the event is about',
          },
        ]
      : []),
  ];

  return {
    resourceType: 'AuditEvent',
    id: String(event.id),
    ...extensions([
      // None yet for an event not sealed: it is complete, only its place in the chain is still to come.
      event.hash && { url: CARETHREAD.hash, valueString: event.hash },
      event.prevHash && { url: CARETHREAD.prevHash, valueString: event.prevHash },
      event.requestId && { url: CARETHREAD.requestId, valueString: event.requestId },
    ]),
    type: mapping.type,
    subtype: [{ system: CARETHREAD.action, code: event.action }],
    action: mapping.action,
    recorded: new Date(event.at).toISOString(),
    outcome,
    ...(event.outcome === AuditOutcome.DENIED && event.reason ? { outcomeDesc: event.reason } : {}),
    agent: [actor, ...recipients],
    source: {
      site: SOURCE_SITE,
      observer: { display: event.instanceId },
      type: [{ system: SECURITY_SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    ...(entities.length ? { entity: entities } : {}),
  };
}

function roleConcept(role: AuditRole): CodeableConcept {
  return { coding: [{ system: CARETHREAD.role, code: role }] };
}

function systemObject(system: string, value: string, name: string): AuditEventEntity {
  return {
    what: { identifier: { system, value } },
    type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
    name,
  };
}

/** `{ extension }` with the extensions given, or nothing when there are none. */
function extensions(candidates: (Extension | null | '' | undefined)[]): { extension?: Extension[] } {
  const present = candidates.filter((e): e is Extension => Boolean(e));
  return present.length ? { extension: present } : {};
}

function deliveryRecipients(event: AuditEvent): DeliveryRecipient[] {
  if (!event.recipients) return [];
  try {
    return JSON.parse(event.recipients) as DeliveryRecipient[];
  } catch {
    throw new Error(`audit event ${event.id} has recipients that are not JSON`);
  }
}
