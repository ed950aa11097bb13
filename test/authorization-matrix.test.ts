import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { getNamedType, isCompositeType, isNonNullType, isObjectType, type GraphQLFormattedError } from 'graphql';
import type { Client } from 'graphql-ws';
import { DEFAULT_ORGANISATION_NAME } from '../src/migrations/1773000000000-organisations';
import { getSchema } from '../src/schema';
import { deliveriesRecorded } from './support/audit-requests';
import { gql, ok } from './support/graphql';
import { connect, settle, subscribe, until } from './support/live';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { png, uploaded } from './support/uploads';
import { asRecipient, PASSWORD as WORLD_PASSWORD, World, type Person, type TeamRef } from './support/world';

// The authorization matrix. Every query, mutation and subscription, and every
// field of every object type of the built schema, is tried as each of eleven
// roles (eight of the world's organisation; a second organisation's admin,
// professional, and patient who shared only with it) against one world, and
// the outcome is compared with EXPECTED below:
// the one table of who may do and see what (docs/domain.md, "Threads and messages" and the
// recipient rules). A coordinate of the schema without a row fails the first
// test, so a new operation or field cannot go unchecked.
//
// Queries and mutations go over HTTP, subscriptions over graphql-ws. Object
// fields are reached through a root the role may call (REACH), aimed at the
// world's protected things: its thread, messages, participants, audit trail.
//
// A leak is a case that returned data ('ok') where the table expects a
// refusal, nothing ('absent') or null, including a live event delivered to a
// role that must not get it. Every mismatch fails, leaks are counted apart.

const ROLES = ['anonymous', 'patient', 'otherPatient', 'nonParticipant', 'leaver', 'creatorLeaver', 'participant', 'admin', 'foreignAdmin', 'foreignProfessional', 'foreignPatient'] as const;
type Role = (typeof ROLES)[number];
/** The roles of a second organisation: its admin, its professional, a patient who shared only with it. */
type ForeignRole = 'foreignAdmin' | 'foreignProfessional' | 'foreignPatient';

/**
 * 'ok': the thing asked for came back (a value, or the world's object in a list).
 * 'null': answered, with null in its place.
 * 'absent': answered, without it (a list that leaves it out, a live feed that never delivers it).
 * Otherwise the error's extensions.code; a graphql-ws connection closed with 4401 counts as UNAUTHENTICATED.
 */
type Outcome = 'ok' | 'null' | 'absent' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT';
type Row = Readonly<Record<Role, Outcome>>;

const OK = 'ok';
const NULL = 'null';
const ABSENT = 'absent';
const UNAUTH = 'UNAUTHENTICATED';
const FORBID = 'FORBIDDEN';
const NF = 'NOT_FOUND';
const BAD = 'BAD_USER_INPUT';

/**
 * Columns in the order of ROLES. The second organisation's roles, unless given, are strangers to the
 * world (all of it the first organisation's): its professional and its admin answer as the
 * non-participant professional does, its patient as the other patient; FOREIGN below says where the
 * organisation makes them answer otherwise.
 */
const row = (
  anonymous: Outcome,
  patient: Outcome,
  otherPatient: Outcome,
  nonParticipant: Outcome,
  leaver: Outcome,
  creatorLeaver: Outcome,
  participant: Outcome,
  admin: Outcome,
  foreign: Partial<Record<ForeignRole, Outcome>> = {},
): Row => ({
  anonymous,
  patient,
  otherPatient,
  nonParticipant,
  leaver,
  creatorLeaver,
  participant,
  admin,
  foreignAdmin: foreign.foreignAdmin ?? nonParticipant,
  foreignProfessional: foreign.foreignProfessional ?? nonParticipant,
  foreignPatient: foreign.foreignPatient ?? otherPatient,
});

// The world: `thread` was started by the creator-leaver, a professional the
// patient shared their record with, to the patient and the auto-CC care team
// (participant and leaver), and left at once: a thread's creator who leaves loses
// it like anyone else. The leaver, a member of the team, left it later. The other
// patient shares their record with the same team but is not in the thread. The
// admin is in no thread of the world. Every role has some thread of their own.

// The rules that recur, in the words of docs/domain.md or the schema's descriptions:
//
// ANYONE                  login: open to anyone with credentials.
// SIGNED_IN               needs a signed-in user, nothing more.
// PARTICIPANTS            "Only current participants can see a thread, its messages, participants [...].
//                         Everyone else gets NOT_FOUND." Admins included.
// PARTICIPANTS_AND_ADMIN  "... and audit trail (admins can read the audit trail)".
// LISTED_TO_PARTICIPANTS  the world's thread is in the lists and live feeds of its current participants only.
// ADMIN_ONLY              "Admins only."
// PATIENT_NETWORK         rule 5: a patient is offered only their care network (the GP shared with the
//                         patient, not with the other patient); professionals see every contactable colleague.
// ACTIVITY                the dashboard feed: participants hear of the thread; the leaver hears that they
//                         left (LEFT_THREAD), then nothing; the creator-leaver, who left before, nothing.
// ACTIVITY_CONTENT        ... and the leaver's LEFT_THREAD carries no message and no thread ("null when the
//                         caller can no longer see it").
// ADMINS_SEE_VALUE        an audit event's request, client and instance: "Admins only (null for others)".
// PATIENTS_ONLY           myAccessLog: "Patients only".
// OWN_ACCESS_LOG          ... "who saw the caller's threads and messages": the world's thread is in the
//                         patient's log only, never in the other patient's.
// TEAM_MEMBERS            teamInbox: members of the team only, FORBIDDEN for everyone else (patients, admins
//                         and the creator-leaver too); the leaver is still a member.
// TEAM_INBOX_LISTED       ... listing the team's threads the caller is in: not the world's thread for the leaver.
// TEAM_INBOX_CHANGE       claim, assign, unassign, done, reopen: NOT_FOUND for anyone not in the thread,
//                         FORBIDDEN for a participant who is not a member of the team (the patient).
// TEAM_INBOX_ITEM         the thread's place in the inboxes of the caller's teams (Thread.inbox): "never
//                         shown to patients" (their list is empty).
// INBOX_ACTIVITY          INBOX_CHANGED on the dashboard feed, for the team's members in the thread only: the
//                         patient and the leaver hear of the thread, never of its inbox (null).
//
//                                 anonymous   patient   otherPatient   nonParticipant   leaver   creatorLeaver   participant   admin
const ANYONE =                 row(OK,         OK,       OK,            OK,              OK,      OK,             OK,           OK);
const SIGNED_IN =              row(UNAUTH,     OK,       OK,            OK,              OK,      OK,             OK,           OK);
const PARTICIPANTS =           row(UNAUTH,     OK,       NF,            NF,              NF,      NF,             OK,           NF);
const PARTICIPANTS_AND_ADMIN = row(UNAUTH,     OK,       NF,            NF,              NF,      NF,             OK,           OK);
const LISTED_TO_PARTICIPANTS = row(UNAUTH,     OK,       ABSENT,        ABSENT,          ABSENT,  ABSENT,         OK,           ABSENT);
const ADMIN_ONLY =             row(UNAUTH,     FORBID,   FORBID,        FORBID,          FORBID,  FORBID,         FORBID,       OK);
const PATIENT_NETWORK =        row(UNAUTH,     OK,       ABSENT,        OK,              OK,      OK,             OK,           OK);
const ACTIVITY =               row(UNAUTH,     OK,       ABSENT,        ABSENT,          OK,      ABSENT,         OK,           ABSENT);
const ACTIVITY_CONTENT =       row(UNAUTH,     OK,       ABSENT,        ABSENT,          NULL,    ABSENT,         OK,           ABSENT);
const ADMINS_SEE_VALUE =       row(UNAUTH,     NULL,     NF,            NF,              NF,      NF,             NULL,         OK);
const PATIENTS_ONLY =          row(UNAUTH,     OK,       OK,            FORBID,          FORBID,  FORBID,         FORBID,       FORBID);
const OWN_ACCESS_LOG =         row(UNAUTH,     OK,       ABSENT,        FORBID,          FORBID,  FORBID,         FORBID,       FORBID);
const TEAM_MEMBERS =           row(UNAUTH,     FORBID,   FORBID,        FORBID,          OK,      FORBID,         OK,           FORBID);
const TEAM_INBOX_LISTED =      row(UNAUTH,     FORBID,   FORBID,        FORBID,          ABSENT,  FORBID,         OK,           FORBID);
const TEAM_INBOX_CHANGE =      row(UNAUTH,     FORBID,   NF,            NF,              NF,      NF,             OK,           NF);
const TEAM_INBOX_ITEM =        row(UNAUTH,     ABSENT,   NF,            NF,              NF,      NF,             OK,           NF);
const INBOX_ACTIVITY =         row(UNAUTH,     NULL,     ABSENT,        ABSENT,          NULL,    ABSENT,         OK,           ABSENT);

/**
 * THE TABLE: every coordinate of the schema, with its expected outcome per role.
 * A key is a schema coordinate, optionally followed by a variant in parentheses
 * when one coordinate is tried more than one way.
 */
const EXPECTED: Record<string, Row> = {
  // Queries
  'Query.auditTrail': PARTICIPANTS_AND_ADMIN,
  'Query.auditEvents': ADMIN_ONLY,
  'Query.auditCheckpoint': ADMIN_ONLY, // of the admin's own organisation
  'Query.myAccessLog': OWN_ACCESS_LOG,
  'Query.recipients': SIGNED_IN,
  'Query.recipients(threadId)': PARTICIPANTS, // rule 6: "With threadId [...] the caller must be a participant"
  'Query.teams': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK), // rule 8: a patient sees only the teams of their care network
  'Query.threads': LISTED_TO_PARTICIPANTS,
  'Query.thread': PARTICIPANTS,
  // Only who may see the message now, checked again when the link is used (test/attachments.test.ts).
  'Query.attachmentLink': PARTICIPANTS,
  'Query.teamInbox': TEAM_INBOX_LISTED,
  'Query.me': SIGNED_IN,

  // Mutations
  'Mutation.login': ANYONE,
  'Mutation.shareRecord': row(UNAUTH, OK, FORBID, FORBID, FORBID, FORBID, FORBID, OK), // the patient themself, or an admin
  'Mutation.sendMessage': PARTICIPANTS,
  'Mutation.createTeam': ADMIN_ONLY,
  // The matrix's admin is the start-up admin, the platform admin: no other admin may.
  'Mutation.createOrganisation': ADMIN_ONLY,
  'Mutation.setOrganisationAutoCc': ADMIN_ONLY,
  'Mutation.renameOrganisation': ADMIN_ONLY, // the platform admin; an organisation's admin renames only their own
  'Query.organisations': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK), // a professional's own; none for a patient
  'Mutation.addTeamMember': ADMIN_ONLY,
  'Mutation.removeTeamMember': ADMIN_ONLY,
  'Mutation.setTeamAutoCc': ADMIN_ONLY,
  'Mutation.setTeamCoverageMinimum': ADMIN_ONLY,
  'Mutation.setTeamWaitingLimit': row(UNAUTH, FORBID, FORBID, FORBID, OK, FORBID, OK, OK), // admins and the team's members (the leaver left the thread, not the team)
  'Mutation.createThread': SIGNED_IN,
  'Mutation.addParticipants': PARTICIPANTS,
  'Mutation.leaveThread': PARTICIPANTS, // "After leaving, the thread is NOT_FOUND for the caller"
  'Mutation.markThreadRead': PARTICIPANTS,
  'Mutation.claimThread': TEAM_INBOX_CHANGE,
  'Mutation.assignThread': TEAM_INBOX_CHANGE, // to the caller themself
  'Mutation.unassignThread': TEAM_INBOX_CHANGE,
  'Mutation.markThreadDone': TEAM_INBOX_CHANGE,
  'Mutation.reopenThread': TEAM_INBOX_CHANGE,
  'Mutation.createUser': ADMIN_ONLY,
  'Mutation.setContactable': ADMIN_ONLY, // of another professional
  'Mutation.setContactable(self)': row(UNAUTH, BAD, BAD, OK, OK, OK, OK, OK), // "Admins, or the professional themself"; patients are never contactable
  'Mutation.setUserDisabled': ADMIN_ONLY,
  // Absences: "a professional (or an admin for them) records an absence"; an upcoming one, so nobody is away.
  'Mutation.recordAbsence': row(UNAUTH, FORBID, FORBID, OK, OK, OK, OK, OK), // the caller's own
  'Mutation.recordAbsence(participant)': row(UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, OK), // someone else's: admins only
  'Mutation.cancelAbsence': row(UNAUTH, NF, NF, NF, NF, NF, OK, OK), // the participant's absence: theirs, or an admin's to cancel
  // Sessions: one's own, whoever one is (each role through a stand-in, whose sessions these end).
  'Mutation.signOut': SIGNED_IN,
  'Mutation.signOutEverywhere': SIGNED_IN,
  'Mutation.changePassword': SIGNED_IN,
  // Each caller's own notification settings and push browsers.
  'Query.notificationSettings': SIGNED_IN,
  'Query.pushPublicKey': SIGNED_IN,
  'Mutation.updateNotificationSettings': SIGNED_IN,
  'Mutation.registerPushSubscription': SIGNED_IN,
  'Mutation.removePushSubscription': SIGNED_IN,
  ...Object.fromEntries(['channels', 'available', 'delayMinutes', 'pushDevices'].map((f) => [`NotificationSettings.${f}`, SIGNED_IN])),
  'NotificationSettings.quietHours': row(UNAUTH, NULL, NULL, NULL, NULL, NULL, NULL, NULL), // none set yet: the queries run before the mutations
  ...Object.fromEntries(['start', 'end', 'timeZone'].map((f) => [`QuietHours.${f}`, SIGNED_IN])),

  // Subscriptions (graphql-ws). `thread` is the world's thread, which the leavers left before subscribing;
  // `leftLive` is a thread like it that the leaver leaves while everyone is subscribed (the creator-leaver
  // left it at once, like the world's). Then the participant sends a message to each.
  'Subscription.threadActivity': ACTIVITY,
  'Subscription.messageAdded': LISTED_TO_PARTICIPANTS, // "one who left stops at once"
  'Subscription.messageAdded(threadId: thread)': PARTICIPANTS,
  'Subscription.messageAdded(threadId: leftLive)': row(UNAUTH, OK, NF, NF, ABSENT, NF, OK, NF), // subscribed, then left: nothing more

  // Object fields, each reached through REACH below (ThreadActivity: the live test above).
  ...Object.fromEntries(['organisationId', 'events', 'headHash', 'at', 'keyId', 'signature', 'publicKey', 'exported'].map((f) => [`AuditCheckpoint.${f}`, ADMIN_ONLY])),
  'AuditEvent.id': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.at': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.action': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.threadId': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.messageId': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.actor': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.subject': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.actorRole': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.outcome': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.reason': PARTICIPANTS_AND_ADMIN, // the world's thread has a refused attempt in its trail
  'AuditEvent.hash': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.actorTeam': PARTICIPANTS_AND_ADMIN, // the participant is in the thread through the care team
  'AuditEvent.team': PARTICIPANTS_AND_ADMIN,
  'AuditEvent.requestId': ADMINS_SEE_VALUE,
  'AuditEvent.clientIp': ADMINS_SEE_VALUE,
  'AuditEvent.userAgent': ADMINS_SEE_VALUE,
  'AuditEvent.instanceId': ADMINS_SEE_VALUE,
  'AuditEvent.channel': row(UNAUTH, NULL, NF, NF, NF, NF, NULL, NULL), // nobody of the world was notified: null on every event

  'AuditEventConnection.edges': ADMIN_ONLY,
  'AuditEventConnection.pageInfo': ADMIN_ONLY,
  'AuditEventEdge.cursor': ADMIN_ONLY,
  'AuditEventEdge.node': ADMIN_ONLY,

  'AccessLogConnection.edges': PATIENTS_ONLY,
  'AccessLogConnection.pageInfo': PATIENTS_ONLY,
  'AccessLogEdge.cursor': OWN_ACCESS_LOG,
  'AccessLogEdge.node': OWN_ACCESS_LOG,
  'AccessLogEntry.at': OWN_ACCESS_LOG,
  'AccessLogEntry.action': OWN_ACCESS_LOG,
  'AccessLogEntry.outcome': OWN_ACCESS_LOG,
  'AccessLogEntry.role': OWN_ACCESS_LOG,
  'AccessLogEntry.threadId': OWN_ACCESS_LOG,
  'AccessLogEntry.messageId': OWN_ACCESS_LOG, // the participant had a message of the world's thread pushed to them
  'AccessLogEntry.who': OWN_ACCESS_LOG,
  'AccessLogEntry.team': OWN_ACCESS_LOG,

  'User.id': SIGNED_IN,
  'User.name': SIGNED_IN,
  'User.kind': SIGNED_IN,
  'User.contactable': SIGNED_IN,
  'User.isAdmin': SIGNED_IN,
  'User.disabled': SIGNED_IN,
  'User.teams': SIGNED_IN,
  'User.isPlatformAdmin': SIGNED_IN,
  'User.organisation': row(UNAUTH, NULL, NULL, OK, OK, OK, OK, OK), // professionals belong to one, patients to none
  // The GP is away: "shown as away (to staff, and to patients as 'away until' without a reason)". Through the
  // drop-down (PATIENT_NETWORK: the other patient is not offered the GP); through `me`, nobody is away.
  'User.awayUntil': row(UNAUTH, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  'User.awayUntil(absent GP)': PATIENT_NETWORK,
  'User.absences': row(UNAUTH, NULL, NULL, OK, OK, OK, OK, OK), // staff only: a list (empty) for professionals, null for patients
  'User.absences(absent GP)': row(UNAUTH, NULL, ABSENT, OK, OK, OK, OK, OK),

  // The GP's absence, through the drop-down (User.absences): staff only.
  'Absence.id': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK),
  'Absence.userId': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK),
  'Absence.startsAt': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK),
  'Absence.endsAt': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK),
  'Absence.reason': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK),
  'Absence.recordedAt': row(UNAUTH, ABSENT, ABSENT, OK, OK, OK, OK, OK),

  'Team.id': SIGNED_IN,
  'Team.name': SIGNED_IN,
  'Team.autoCc': SIGNED_IN,
  'Team.minimumContactable': SIGNED_IN,
  'Team.waitingLimitMinutes': row(UNAUTH, NULL, NULL, NULL, NULL, NULL, NULL, NULL), // the care team has no waiting limit
  'Team.members': SIGNED_IN,
  'Team.contactableMembers': SIGNED_IN,
  'Team.organisation': SIGNED_IN,

  // The care team's, through Team.organisation.
  'Organisation.id': SIGNED_IN,
  'Organisation.name': SIGNED_IN,
  'Organisation.autoCcAllowed': SIGNED_IN,

  'TeamRecipient.team': SIGNED_IN,
  'TeamRecipient.id': SIGNED_IN,
  'TeamRecipient.members': SIGNED_IN,
  'TeamRecipient.reachCount': SIGNED_IN,
  'UserRecipient.user': PATIENT_NETWORK,
  'UserRecipient.id': PATIENT_NETWORK,

  'ThreadConnection.edges': SIGNED_IN,
  'ThreadConnection.pageInfo': SIGNED_IN,
  'ThreadEdge.cursor': LISTED_TO_PARTICIPANTS,
  'ThreadEdge.node': LISTED_TO_PARTICIPANTS,
  'PageInfo.hasNextPage': SIGNED_IN,
  'PageInfo.endCursor': SIGNED_IN,

  'Thread.id': PARTICIPANTS,
  'Thread.subject': PARTICIPANTS,
  'Thread.createdAt': PARTICIPANTS,
  'Thread.createdBy': PARTICIPANTS,
  'Thread.participants': PARTICIPANTS,
  'Thread.teams': PARTICIPANTS,
  'Thread.messages': PARTICIPANTS,
  'Thread.lastMessage': PARTICIPANTS,
  'Thread.unreadCount': PARTICIPANTS,
  'Thread.lastActivityAt': PARTICIPANTS,
  'Thread.inbox': PARTICIPANTS, // a list for every participant, without the care team's item for the patient (TeamInboxItem below)

  // The world's thread in the care team's inbox (TeamInboxItem: through Thread.inbox): the patient waits, the
  // participant claimed it and marked it done.
  'TeamInboxConnection.edges': TEAM_MEMBERS,
  'TeamInboxConnection.pageInfo': TEAM_MEMBERS,
  'TeamInboxEdge.cursor': TEAM_INBOX_LISTED,
  'TeamInboxEdge.node': TEAM_INBOX_LISTED,
  'TeamInboxItem.id': TEAM_INBOX_ITEM,
  'TeamInboxItem.threadId': TEAM_INBOX_ITEM,
  'TeamInboxItem.teamId': TEAM_INBOX_ITEM,
  'TeamInboxItem.addedAt': TEAM_INBOX_ITEM,
  'TeamInboxItem.status': TEAM_INBOX_ITEM,
  'TeamInboxItem.assignedAt': TEAM_INBOX_ITEM,
  'TeamInboxItem.doneAt': TEAM_INBOX_ITEM,
  'TeamInboxItem.escalationDueAt': row(UNAUTH, ABSENT, NF, NF, NF, NF, NULL, NF), // the care team has no waiting limit
  'TeamInboxItem.escalatedAt': row(UNAUTH, ABSENT, NF, NF, NF, NF, NULL, NF), // ... so it was never alerted
  'TeamInboxItem.thread': TEAM_INBOX_ITEM,
  'TeamInboxItem.team': TEAM_INBOX_ITEM,
  'TeamInboxItem.waitingSince': TEAM_INBOX_ITEM,
  'TeamInboxItem.assignee': TEAM_INBOX_ITEM, // "The team sees the assignee; the patient does not."
  'TeamInboxItem.doneBy': TEAM_INBOX_ITEM,

  'Participant.id': PARTICIPANTS,
  'Participant.joinedAt': PARTICIPANTS,
  'Participant.lastReadAt': PARTICIPANTS,
  'Participant.user': PARTICIPANTS,
  'Participant.addedBy': PARTICIPANTS,
  'Participant.viaTeam': PARTICIPANTS,

  'MessageConnection.edges': PARTICIPANTS,
  'MessageConnection.pageInfo': PARTICIPANTS,
  'MessageEdge.cursor': PARTICIPANTS,
  'MessageEdge.node': PARTICIPANTS,
  'Message.id': PARTICIPANTS,
  'Message.threadId': PARTICIPANTS,
  'Message.body': PARTICIPANTS,
  'Message.createdAt': PARTICIPANTS,
  // On the world's ordinary messages (false); that a patient never gets a note at all is staff-notes.test.ts.
  'Message.staffOnly': PARTICIPANTS,
  'Message.thread': PARTICIPANTS,
  'Message.author': PARTICIPANTS,
  'Message.readBy': PARTICIPANTS,
  // The care team (the participant) read the patient's message; its time is shown to its author only, null to other participants.
  'Message.readByCareTeamAt': row(UNAUTH, OK, NF, NF, NF, NF, NULL, NF),
  // The world's messages are sent without one, so null to every participant, their author too; that it reaches
  // its author only is test/client-cache.test.ts.
  'Message.clientMessageId': row(UNAUTH, NULL, NF, NF, NF, NF, NULL, NF),
  'Message.attachments': PARTICIPANTS,
  'Attachment.id': PARTICIPANTS,
  'Attachment.name': PARTICIPANTS,
  'Attachment.contentType': PARTICIPANTS,
  'Attachment.size': PARTICIPANTS,
  'Attachment.width': PARTICIPANTS,
  'Attachment.height': PARTICIPANTS,
  'Attachment.thumbnail': PARTICIPANTS,
  'Attachment.url': PARTICIPANTS,
  'AttachmentLink.url': PARTICIPANTS,
  'AttachmentLink.expiresAt': PARTICIPANTS,

  'AuthPayload.token': ANYONE,
  'AuthPayload.user': ANYONE,

  'ThreadActivity.kind': ACTIVITY,
  'ThreadActivity.threadId': ACTIVITY,
  'ThreadActivity.at': ACTIVITY,
  'ThreadActivity.message': ACTIVITY_CONTENT,
  'ThreadActivity.thread': ACTIVITY_CONTENT,
  // The leaver had claimed `leftLive` for the care team: leaving it unassigns them, an INBOX_CHANGED for the participant.
  'ThreadActivity.teamId': INBOX_ACTIVITY,
  'ThreadActivity.inbox': INBOX_ACTIVITY,
};

/** All three of the second organisation's roles. */
const OUTSIDE = (outcome: Outcome): Partial<Record<ForeignRole, Outcome>> => ({ foreignAdmin: outcome, foreignProfessional: outcome, foreignPatient: outcome });

/**
 * Where the second organisation's roles answer otherwise than strangers of the first (row's defaults):
 * what the first organisation offers or lists its own (its teams, the GP in the drop-down, its
 * organisation) they do not see; its teams and people are unknown to them (NOT_FOUND, or an unknown
 * recipient), where a stranger of the first gets FORBIDDEN; and its admin acts in their own
 * organisation (a team, a user: theirs). None of it shows them anything of the first's.
 */
const FOREIGN: Record<string, Partial<Record<ForeignRole, Outcome>>> = {
  'Query.organisations': { foreignAdmin: ABSENT, foreignProfessional: ABSENT },
  'Query.teams': { foreignAdmin: ABSENT, foreignProfessional: ABSENT },
  'Query.teamInbox': { foreignAdmin: NF, foreignProfessional: NF },
  'Query.auditEvents': { foreignAdmin: ABSENT },
  // Their own organisation's checkpoint, never the first's.
  ...Object.fromEntries(
    ['Query.auditCheckpoint', ...['organisationId', 'events', 'headHash', 'at', 'keyId', 'signature', 'publicKey', 'exported'].map((f) => `AuditCheckpoint.${f}`)].map((key) => [
      key,
      { foreignAdmin: ABSENT },
    ]),
  ),
  // The connection of their own organisation's events: their own searches, nothing of the thread's.
  'AuditEventConnection.edges': { foreignAdmin: OK },
  'AuditEventConnection.pageInfo': { foreignAdmin: OK },
  'AuditEventEdge.cursor': { foreignAdmin: ABSENT },
  'AuditEventEdge.node': { foreignAdmin: ABSENT },
  'User.awayUntil(absent GP)': OUTSIDE(ABSENT),
  'User.absences(absent GP)': OUTSIDE(ABSENT),
  ...Object.fromEntries(['id', 'userId', 'startsAt', 'endsAt', 'reason', 'recordedAt'].map((f) => [`Absence.${f}`, OUTSIDE(ABSENT)])),
  ...Object.fromEntries(['id', 'name', 'autoCcAllowed'].map((f) => [`Organisation.${f}`, OUTSIDE(ABSENT)])),
  ...Object.fromEntries(
    ['id', 'name', 'autoCc', 'waitingLimitMinutes', 'minimumContactable', 'organisation', 'members', 'contactableMembers'].map((f) => [`Team.${f}`, OUTSIDE(ABSENT)]),
  ),
  ...Object.fromEntries(['id', 'team', 'members', 'reachCount'].map((f) => [`TeamRecipient.${f}`, OUTSIDE(ABSENT)])),
  ...Object.fromEntries(['id', 'user'].map((f) => [`UserRecipient.${f}`, OUTSIDE(ABSENT)])),
  // The foreign admin has no thread: their list is empty (the others have one of their own).
  'PageInfo.endCursor': { foreignAdmin: NULL },
  ...Object.fromEntries(
    ['TeamInboxConnection.edges', 'TeamInboxConnection.pageInfo', 'TeamInboxEdge.cursor', 'TeamInboxEdge.node'].map((key) => [key, { foreignAdmin: NF, foreignProfessional: NF }]),
  ),
  'Mutation.createThread': OUTSIDE(BAD), // the first organisation's colleague or care team: an unknown recipient
  'Mutation.createTeam': { foreignAdmin: OK }, // in their own organisation
  'Mutation.renameOrganisation': { foreignAdmin: NF }, // another organisation's, to them
  'Mutation.createUser': { foreignAdmin: OK }, // in their own organisation
  'Mutation.setTeamWaitingLimit': { foreignAdmin: NF, foreignProfessional: NF },
  ...Object.fromEntries(
    [
      'Mutation.shareRecord',
      'Mutation.addTeamMember',
      'Mutation.removeTeamMember',
      'Mutation.setTeamAutoCc',
      'Mutation.setTeamCoverageMinimum',
      'Mutation.setContactable',
      'Mutation.setUserDisabled',
      'Mutation.recordAbsence(participant)',
    ].map((key) => [key, { foreignAdmin: NF }]),
  ),
};
for (const [key, foreign] of Object.entries(FOREIGN)) EXPECTED[key] = { ...EXPECTED[key], ...foreign };

/** The schema coordinate of a table key: 'Query.recipients(threadId)' -> 'Query.recipients'. */
const coordinateOf = (key: string) => key.replace(/\(.*$/, '');

// ---------------------------------------------------------------------------
// The world

const PASSWORD = 'matrix-password-1';

interface Ctx {
  server: TestServer;
  world: World;
  people: Record<Exclude<Role, 'anonymous'>, Person>;
  /** The world's thread: patient and participant are in it, the leaver and the creator-leaver left it. */
  thread: string;
  /** A file the participant sent in the world's thread. */
  attachment: string;
  careTeam: TeamRef;
  /** A team nobody shared a record with. */
  unsharedTeam: TeamRef;
  /** A contactable professional the patient (not the other patient) shared their record with. */
  gp: Person;
  /** A contactable professional in no auto-CC team: what professionals pick when creating a thread. */
  colleague: Person;
  /** The organisation of this world: everyone's but the foreign roles', the care team's. */
  organisationId: string;
  /** The second organisation, whose admin is the foreignAdmin. */
  foreignWorld: World;
  /** Targets of admin-only mutations, used for nothing else. */
  scratch: { shareTarget: Person; teamCandidate: Person; memberTeam: TeamRef; autoCcTeam: TeamRef; contactableTarget: Person; disableTarget: Person };
}

const tokenOf = (ctx: Ctx, role: Role) => (role === 'anonymous' ? undefined : ctx.people[role].token);
/** Who a role is when it has to name itself; the anonymous caller names the patient. */
const personOf = (ctx: Ctx, role: Role) => (role === 'anonymous' ? ctx.people.patient : ctx.people[role]);
/** What the role signs in with: the start-up admin's, the second organisation's first admin's (made by World), or this file's password. */
const credentialsOf = (ctx: Ctx, role: Role) =>
  role === 'admin' ? { e: ADMIN.email, p: ADMIN.password } : { e: personOf(ctx, role).email, p: role === 'foreignAdmin' ? WORLD_PASSWORD : PASSWORD };
const isPatient = (role: Role) => role === 'patient' || role === 'otherPatient' || role === 'foreignPatient';
const isAdminRole = (role: Role) => role === 'admin' || role === 'foreignAdmin';
const isForeign = (role: Role): role is ForeignRole => role.startsWith('foreign');

const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id } } }`;

/** A user with a password this file knows (for login), created by the admin. */
async function person(world: World, kind: 'PATIENT' | 'PROFESSIONAL', name: string): Promise<Person> {
  const email = `matrix-${name.toLowerCase().replace(/\W+/g, '-')}@test.example`;
  const input = { email, name, password: PASSWORD, kind, ...(kind === 'PROFESSIONAL' ? { contactable: true } : {}) };
  const { createUser } = await world.as(world.admin, `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: input });
  const { login } = await ok(world.server.url, LOGIN, { e: email, p: PASSWORD });
  return { id: createUser.id, name, email, token: login.token };
}

let standIns = 0;

/**
 * For what ends sessions: the token of a new account of the role's kind (an admin for the admin), so
 * that the role's own token lives on for the other cases; none for the anonymous caller.
 */
async function standIn(c: Ctx, role: Role): Promise<string | undefined> {
  if (role === 'anonymous') return undefined;
  const email = `matrix-stand-in-${++standIns}@test.example`;
  const i = { email, name: `Stand-in ${role}`, password: PASSWORD, kind: isPatient(role) ? 'PATIENT' : 'PROFESSIONAL', isAdmin: isAdminRole(role) };
  const world = isForeign(role) ? c.foreignWorld : c.world;
  await world.as(world.admin, `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i });
  return (await ok(c.world.server.url, LOGIN, { e: email, p: PASSWORD })).login.token;
}

const markRead = (world: World, who: Person, threadId: string) =>
  world.as(who, `mutation($t: ID!) { markThreadRead(threadId: $t) { id } }`, { t: threadId });

/** A thread shaped like the world's: the creator-leaver writes to the patient and the care team, then leaves. */
async function leftByCreator(c: Pick<Ctx, 'world' | 'people' | 'careTeam'>, body: string, subject: string): Promise<string> {
  const id = await c.world.thread(c.people.creatorLeaver, [asRecipient(c.people.patient), asRecipient(c.careTeam)], body, subject);
  await c.world.leave(c.people.creatorLeaver, id);
  return id;
}

/** A thread like the world's, which both leavers left. */
async function freshThread(ctx: Ctx, subject: string): Promise<string> {
  const id = await leftByCreator(ctx, 'Fresh thread', subject);
  await ctx.world.leave(ctx.people.leaver, id);
  return id;
}

/**
 * A thread like the world's in which the leaver is still a participant and has claimed it for the care
 * team (they leave it during the live test, which unassigns them).
 */
async function freshThreadKeepingLeaver(ctx: Ctx): Promise<string> {
  const id = await leftByCreator(ctx, 'Live thread', 'Matrix live thread');
  await ctx.world.as(ctx.people.leaver, `mutation($t: ID!, $team: ID!) { claimThread(threadId: $t, teamId: $team) { threadId } }`, {
    t: id,
    team: ctx.careTeam.id,
  });
  return id;
}

async function buildWorld(server: TestServer): Promise<Ctx> {
  const world = await World.create(server);
  const participant = await person(world, 'PROFESSIONAL', 'Matrix Participant');
  const leaver = await person(world, 'PROFESSIONAL', 'Matrix Leaver');
  const creatorLeaver = await person(world, 'PROFESSIONAL', 'Matrix Creator-leaver');
  const nonParticipant = await person(world, 'PROFESSIONAL', 'Matrix Non-participant');
  const patient = await person(world, 'PATIENT', 'Matrix Patient');
  const otherPatient = await person(world, 'PATIENT', 'Matrix Other Patient');
  const gp = await world.professional('Matrix GP');
  const colleague = await world.professional('Matrix Colleague');
  const careTeam = await world.team('Matrix Care Team', { autoCc: true, members: [participant, leaver] });
  const unsharedTeam = await world.team('Matrix Unshared Team', { members: [colleague] });
  await world.share(patient, careTeam);
  await world.share(patient, gp);
  await world.share(patient, creatorLeaver);
  await world.share(otherPatient, careTeam);
  // The second organisation: its admin, a professional of it, and a patient who shared their record only with them.
  const { world: foreignWorld } = await world.organisation('Matrix Hospital B');
  const foreignProfessional = await person(foreignWorld, 'PROFESSIONAL', 'Matrix Foreign Professional');
  const foreignPatient = await person(foreignWorld, 'PATIENT', 'Matrix Foreign Patient');
  await foreignWorld.share(foreignPatient, foreignProfessional);
  await foreignWorld.thread(foreignPatient, [asRecipient(foreignProfessional)], 'Foreign question', 'Foreign thread');
  const people = { patient, otherPatient, nonParticipant, leaver, creatorLeaver, participant, admin: world.admin, foreignAdmin: foreignWorld.admin, foreignProfessional, foreignPatient };

  const thread = await leftByCreator({ world, people, careTeam }, 'Your results are in', 'Matrix thread');
  // For the patient's access log: the participant's answer is pushed to them live, and they read the thread.
  const live = connect(server.wsUrl, participant.token);
  try {
    const feed = subscribe(live, `subscription { messageAdded { id } }`);
    await until(() => server.live.size === 1);
    const messageId = await world.send(participant, thread, 'Come in tomorrow, we will go through them');
    await feed.waitFor(1);
    await deliveriesRecorded(server, messageId, 1);
  } finally {
    await live.dispose();
  }
  await until(() => server.live.size === 0);
  await world.as(participant, `query($t: ID!) { thread(id: $t) { messages { edges { node { id } } } } }`, { t: thread });
  const attachment = (await uploaded(server.url, participant.token, await png(), { name: 'scan.png' })).id;
  await world.as(participant, `mutation($t: ID!, $a: [ID!]) { sendMessage(threadId: $t, body: "Your scan", attachmentIds: $a) { id } }`, { t: thread, a: [attachment] });
  // For the care team's inbox: the patient writes and waits; the participant claims the thread and marks it done.
  await world.send(patient, thread, 'One more question');
  await world.as(participant, `mutation($t: ID!, $team: ID!) { claimThread(threadId: $t, teamId: $team) { threadId } }`, { t: thread, team: careTeam.id });
  await world.as(participant, `mutation($t: ID!, $team: ID!) { markThreadDone(threadId: $t, teamId: $team) { threadId } }`, { t: thread, team: careTeam.id });
  // A refused attempt, for the trail's DENIED event with its reason.
  await gql(server.url, `query($t: ID!) { thread(id: $t) { id } }`, { t: thread }, nonParticipant.token);
  await markRead(world, patient, thread);
  await markRead(world, participant, thread);
  await world.leave(leaver, thread);

  // A thread of their own for everyone else, so that lists are not empty by accident.
  await world.thread(otherPatient, [asRecipient(careTeam)], 'Another question', 'Other patient thread');
  await world.thread(world.admin, [asRecipient(nonParticipant)], 'Admin note', 'Admin thread');
  await world.thread(creatorLeaver, [asRecipient(colleague)], 'Creator note', 'Creator-leaver thread');
  // The GP is away (since a minute ago, for a month), for a reason only staff may see.
  await world.as(world.admin, `mutation($u: ID!, $s: DateTime!, $e: DateTime!) { recordAbsence(userId: $u, startsAt: $s, endsAt: $e, reason: "Matrix leave") { id } }`, {
    u: gp.id,
    s: new Date(Date.now() - 60_000).toISOString(),
    e: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });

  const scratch = {
    shareTarget: await world.professional('Matrix Share Target'),
    teamCandidate: await world.professional('Matrix Team Candidate'),
    memberTeam: await world.team('Matrix Member Team'),
    autoCcTeam: await world.team('Matrix Auto-CC Team'),
    contactableTarget: await world.professional('Matrix Contactable Target'),
    disableTarget: await world.professional('Matrix Disable Target'),
  };
  const organisationId: string = (await world.as(world.admin, '{ me { organisation { id } } }')).me.organisation.id;
  return { server, world, people, thread, attachment, careTeam, unsharedTeam, gp, colleague, organisationId, foreignWorld, scratch };
}

// ---------------------------------------------------------------------------
// Probes. `found` picks, from the answer, the values that stand for the thing
// asked for: none -> 'absent', only nulls -> 'null', anything else -> 'ok'.

type Data = any;
type Found = (data: Data, ctx: Ctx) => unknown[];

interface HttpRequest {
  query: string;
  variables?: Record<string, unknown>;
  /** Sent instead of the role's own token (standIn). */
  token?: string;
}

interface HttpProbe {
  /** May create fixtures first (a fresh thread to leave, a team to remove a member from). */
  request(ctx: Ctx, role: Role): HttpRequest | Promise<HttpRequest>;
  found: Found;
}

interface LiveProbe {
  query: string;
  variables?(ctx: Ctx, leftLive: string): Record<string, unknown>;
  /** From every payload received; `watched` are the world's thread and the one the leaver leaves while subscribed. */
  found(payloads: Data[], watched: string[]): unknown[];
}

const one = (value: unknown): unknown[] => (value === undefined ? [] : [value]);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** A change of the world's thread in the care team's inbox; the participant's go through one after another. */
const inboxChange = (field: string): HttpProbe => ({
  request: (c) =>
    field === 'assignThread'
      ? {
          query: `mutation($t: ID!, $team: ID!, $u: ID!) { assignThread(threadId: $t, teamId: $team, userId: $u) { threadId } }`,
          variables: { t: c.thread, team: c.careTeam.id, u: c.people.participant.id },
        }
      : { query: `mutation($t: ID!, $team: ID!) { ${field}(threadId: $t, teamId: $team) { threadId } }`, variables: { t: c.thread, team: c.careTeam.id } },
  found: (d) => one(d?.[field]),
});

const RECORD_ABSENCE = `mutation($u: ID, $s: DateTime!, $e: DateTime!) { recordAbsence(userId: $u, startsAt: $s, endsAt: $e) { id } }`;
/** An absence that has not begun, so that recording it makes nobody away. */
const UPCOMING = { s: new Date(Date.now() + 86_400_000).toISOString(), e: new Date(Date.now() + 2 * 86_400_000).toISOString() };
/** The away GP as the drop-down offers them, with `sel`. */
const ABSENT_GP = (sel: string) => `{ recipients(search: "Matrix GP", first: 10) { ... on UserRecipient { user { id ${sel} } } } }`;
const absentGp = (d: Data, c: Ctx) => list(d?.recipients).map((r: Data) => r.user).filter((u: Data) => u?.id === c.gp.id);

/** The care team's inbox, of done threads: the world's thread is done (buildWorld). */
const doneInbox = (sel: string) => `query($team: ID!) { teamInbox(teamId: $team, status: DONE, first: 100) { ${sel} } }`;

/**
 * The audit search's edges of what was done in the world's thread: not the searches (a search is recorded
 * naming the thread it asked about, so whoever searched for it finds their own), nor the attempts refused
 * (a refusal is recorded against its actor's organisation too, whose admin sees who of theirs tried).
 */
const ofTheThread = (c: Ctx, edges: Data[]) =>
  edges.filter((e: Data) => e.node.threadId === c.thread && e.node.action !== 'AUDIT_SEARCHED' && e.node.outcome === 'SUCCESS');

/** The world's organisation's audit checkpoint, if that is what came back. */
const theWorldsCheckpoint = (d: Data, c: Ctx) => one(d?.auditCheckpoint ?? undefined).filter((x: Data) => x.organisationId === c.organisationId);

const ROOT_PROBES: Record<string, HttpProbe> = {
  'Query.notificationSettings': {
    request: () => ({ query: `{ notificationSettings { delayMinutes } }` }),
    found: (d) => one(d?.notificationSettings),
  },
  'Query.pushPublicKey': {
    request: () => ({ query: `{ pushPublicKey }` }),
    found: (d) => one(d?.pushPublicKey),
  },
  'Mutation.updateNotificationSettings': {
    request: () => ({ query: `mutation { updateNotificationSettings(input: { delayMinutes: 30 }) { delayMinutes } }` }),
    found: (d) => one(d?.updateNotificationSettings),
  },
  'Mutation.registerPushSubscription': {
    request: (_c, role) => ({ query: REGISTER_PUSH, variables: { s: pushSubscription(role) } }),
    found: (d) => one(d?.registerPushSubscription),
  },
  'Mutation.removePushSubscription': {
    request: (_c, role) => ({ query: `mutation($e: String!) { removePushSubscription(endpoint: $e) { pushDevices } }`, variables: { e: pushSubscription(role).endpoint } }),
    found: (d) => one(d?.removePushSubscription),
  },
  'Query.auditTrail': {
    request: (c) => ({ query: `query($t: ID!) { auditTrail(threadId: $t) { id } }`, variables: { t: c.thread } }),
    found: (d) => list(d?.auditTrail),
  },
  'Query.auditEvents': {
    request: (c) => ({ query: `query($t: ID!) { auditEvents(filter: { threadId: $t }, first: 100) { edges { node { id threadId action outcome } } } }`, variables: { t: c.thread } }),
    found: (d, c) => ofTheThread(c, list(d?.auditEvents?.edges)),
  },
  'Query.auditCheckpoint': {
    request: () => ({ query: `{ auditCheckpoint { organisationId } }` }),
    found: (d, c) => theWorldsCheckpoint(d, c),
  },
  'Query.myAccessLog': {
    request: () => ({ query: `{ myAccessLog(first: 100) { edges { node { threadId } } } }` }),
    found: (d, c) => list(d?.myAccessLog?.edges).filter((e: Data) => e.node.threadId === c.thread),
  },
  'Query.recipients': {
    request: () => ({ query: `{ recipients(first: 100) { __typename } }` }),
    found: (d) => one(d?.recipients),
  },
  'Query.recipients(threadId)': {
    request: (c) => ({ query: `query($t: ID!) { recipients(threadId: $t, first: 100) { __typename } }`, variables: { t: c.thread } }),
    found: (d) => one(d?.recipients),
  },
  'Query.organisations': {
    request: () => ({ query: `{ organisations { id } }` }),
    found: (d, c) => list(d?.organisations).filter((o: Data) => o.id === c.organisationId),
  },
  'Query.teams': {
    request: () => ({ query: `{ teams { id } }` }),
    found: (d, c) => list(d?.teams).filter((t: Data) => t.id === c.unsharedTeam.id),
  },
  'Query.threads': {
    request: () => ({ query: `{ threads(first: 100) { edges { node { id } } } }` }),
    found: (d, c) => list(d?.threads?.edges).filter((e: Data) => e.node.id === c.thread),
  },
  'Query.thread': {
    request: (c) => ({ query: `query($t: ID!) { thread(id: $t) { id } }`, variables: { t: c.thread } }),
    found: (d) => one(d?.thread),
  },
  'Query.attachmentLink': {
    request: (c) => ({ query: `query($a: ID!) { attachmentLink(id: $a) { url } }`, variables: { a: c.attachment } }),
    found: (d) => one(d?.attachmentLink),
  },
  'Query.me': {
    request: () => ({ query: `{ me { id } }` }),
    found: (d) => one(d?.me),
  },
  'Query.teamInbox': {
    request: (c) => ({ query: doneInbox('edges { node { threadId } }'), variables: { team: c.careTeam.id } }),
    found: (d, c) => list(d?.teamInbox?.edges).filter((e: Data) => e.node.threadId === c.thread),
  },

  'Mutation.login': {
    request: (c, role) => ({ query: LOGIN, variables: credentialsOf(c, role) }),
    found: (d) => one(d?.login),
  },
  'Mutation.shareRecord': {
    request: (c) => ({
      query: `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`,
      variables: { p: c.people.patient.id, r: asRecipient(c.scratch.shareTarget) },
    }),
    found: (d) => one(d?.shareRecord),
  },
  'Mutation.sendMessage': {
    request: (c, role) => ({
      query: `mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, body: $b) { id } }`,
      variables: { t: c.thread, b: `Sent by the ${role}` },
    }),
    found: (d) => one(d?.sendMessage),
  },
  'Mutation.createOrganisation': {
    request: (_c, role) => ({
      query: `mutation($n: String!, $a: FirstAdminInput!) { createOrganisation(name: $n, firstAdmin: $a) { id } }`,
      variables: { n: `Matrix organisation by the ${role}`, a: { email: `matrix-first-admin-by-${role.toLowerCase()}@test.example`, name: 'First admin', password: PASSWORD } },
    }),
    found: (d) => one(d?.createOrganisation),
  },
  'Mutation.setOrganisationAutoCc': {
    // Allowed already: the same answer changes nothing.
    request: (c) => ({ query: `mutation($o: ID!) { setOrganisationAutoCc(organisationId: $o, allowed: true) { id } }`, variables: { o: c.organisationId } }),
    found: (d) => one(d?.setOrganisationAutoCc),
  },
  'Mutation.renameOrganisation': {
    // To the name it has: the same answer changes nothing.
    request: (c) => ({ query: `mutation($o: ID!, $n: String!) { renameOrganisation(organisationId: $o, name: $n) { id } }`, variables: { o: c.organisationId, n: DEFAULT_ORGANISATION_NAME } }),
    found: (d) => one(d?.renameOrganisation),
  },
  'Mutation.createTeam': {
    request: (_c, role) => ({ query: `mutation($n: String!) { createTeam(name: $n) { id } }`, variables: { n: `Matrix team by the ${role}` } }),
    found: (d) => one(d?.createTeam),
  },
  'Mutation.addTeamMember': {
    request: (c) => ({
      query: `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`,
      variables: { t: c.scratch.memberTeam.id, u: c.scratch.teamCandidate.id },
    }),
    found: (d) => one(d?.addTeamMember),
  },
  'Mutation.removeTeamMember': {
    // Each role gets a team of its own with one member, so nobody's attempt spoils another's.
    request: async (c, role) => {
      const team = await c.world.team(`Matrix removal team (${role})`, { members: [c.scratch.teamCandidate] });
      return {
        query: `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`,
        variables: { t: team.id, u: c.scratch.teamCandidate.id },
      };
    },
    found: (d) => one(d?.removeTeamMember),
  },
  'Mutation.setTeamAutoCc': {
    request: (c) => ({
      query: `mutation($t: ID!, $e: Boolean!) { setTeamAutoCc(teamId: $t, enabled: $e) { id } }`,
      variables: { t: c.scratch.autoCcTeam.id, e: true },
    }),
    found: (d) => one(d?.setTeamAutoCc),
  },
  'Mutation.setTeamCoverageMinimum': {
    request: (c) => ({
      query: `mutation($t: ID!, $n: Int!) { setTeamCoverageMinimum(teamId: $t, minimum: $n) { id } }`,
      variables: { t: c.scratch.autoCcTeam.id, n: 1 },
    }),
    found: (d) => one(d?.setTeamCoverageMinimum),
  },
  'Mutation.setTeamWaitingLimit': {
    // Each role gets a team of its own with the care team's members, so that no limit reaches the care team.
    request: async (c, role) => {
      const team = await c.world.team(`Matrix waiting-limit team (${role})`, { members: [c.people.participant, c.people.leaver] });
      return { query: `mutation($t: ID!, $m: Int) { setTeamWaitingLimit(teamId: $t, minutes: $m) { id } }`, variables: { t: team.id, m: 240 } };
    },
    found: (d) => one(d?.setTeamWaitingLimit),
  },
  'Mutation.createThread': {
    // A recipient each role may pick: patients their care team, professionals a colleague.
    request: (c, role) => ({
      query: `mutation($s: String!, $b: String!, $r: [RecipientInput!]!) { createThread(subject: $s, body: $b, recipients: $r) { id } }`,
      variables: { s: `Started by the ${role}`, b: 'Hello', r: [isPatient(role) ? asRecipient(c.careTeam) : asRecipient(c.colleague)] },
    }),
    found: (d) => one(d?.createThread),
  },
  'Mutation.addParticipants': {
    request: async (c, role) => ({
      query: `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`,
      variables: { t: await freshThread(c, `To add to, by the ${role}`), r: [isPatient(role) ? asRecipient(c.gp) : asRecipient(c.colleague)] },
    }),
    found: (d) => one(d?.addParticipants),
  },
  'Mutation.leaveThread': {
    request: async (c, role) => ({
      query: `mutation($t: ID!) { leaveThread(threadId: $t) }`,
      variables: { t: await freshThread(c, `To leave, by the ${role}`) },
    }),
    found: (d) => one(d?.leaveThread),
  },
  'Mutation.markThreadRead': {
    request: (c) => ({ query: `mutation($t: ID!) { markThreadRead(threadId: $t) { id } }`, variables: { t: c.thread } }),
    found: (d) => one(d?.markThreadRead),
  },
  // After the patient's message (Mutation.sendMessage) reopened the thread: claim, assign to self, unassign, done, reopen.
  'Mutation.claimThread': inboxChange('claimThread'),
  'Mutation.assignThread': inboxChange('assignThread'),
  'Mutation.unassignThread': inboxChange('unassignThread'),
  'Mutation.markThreadDone': inboxChange('markThreadDone'),
  'Mutation.reopenThread': inboxChange('reopenThread'),
  'Mutation.createUser': {
    request: (_c, role) => ({
      query: `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`,
      variables: { i: { email: `matrix-created-by-${role.toLowerCase()}@test.example`, name: `Created by the ${role}`, kind: 'PROFESSIONAL', password: PASSWORD } },
    }),
    found: (d) => one(d?.createUser),
  },
  'Mutation.setContactable': {
    request: (c) => ({
      query: `mutation($u: ID!, $c: Boolean!) { setContactable(userId: $u, contactable: $c) { id } }`,
      variables: { u: c.scratch.contactableTarget.id, c: true },
    }),
    found: (d) => one(d?.setContactable),
  },
  'Mutation.setContactable(self)': {
    // Each caller sets their own flag to what it already is (the admin is not contactable).
    request: (c, role) => ({
      query: `mutation($u: ID!, $c: Boolean!) { setContactable(userId: $u, contactable: $c) { id } }`,
      variables: { u: personOf(c, role).id, c: !isAdminRole(role) },
    }),
    found: (d) => one(d?.setContactable),
  },
  'Mutation.setUserDisabled': {
    request: (c) => ({
      query: `mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id } }`,
      variables: { u: c.scratch.disableTarget.id, d: true },
    }),
    found: (d) => one(d?.setUserDisabled),
  },
  'Mutation.recordAbsence': {
    request: () => ({ query: RECORD_ABSENCE, variables: { u: null, ...UPCOMING } }),
    found: (d) => one(d?.recordAbsence),
  },
  'Mutation.recordAbsence(participant)': {
    request: (c) => ({ query: RECORD_ABSENCE, variables: { u: c.people.participant.id, ...UPCOMING } }),
    found: (d) => one(d?.recordAbsence),
  },
  'Mutation.cancelAbsence': {
    // Each role tries a fresh absence of the participant's, recorded by the admin.
    request: async (c) => {
      const { recordAbsence } = await c.world.as(c.world.admin, RECORD_ABSENCE, { u: c.people.participant.id, ...UPCOMING });
      return { query: `mutation($id: ID!) { cancelAbsence(id: $id) }`, variables: { id: recordAbsence.id } };
    },
    found: (d) => one(d?.cancelAbsence),
  },
  'Mutation.signOut': {
    request: async (c, role) => ({ query: 'mutation { signOut }', token: await standIn(c, role) }),
    found: (d) => one(d?.signOut),
  },
  'Mutation.signOutEverywhere': {
    request: async (c, role) => ({ query: 'mutation { signOutEverywhere }', token: await standIn(c, role) }),
    found: (d) => one(d?.signOutEverywhere),
  },
  'Mutation.changePassword': {
    request: async (c, role) => ({
      query: 'mutation($p: String!) { changePassword(currentPassword: $p, newPassword: "matrix-new-password") }',
      variables: { p: PASSWORD },
      token: await standIn(c, role),
    }),
    found: (d) => one(d?.changePassword),
  },
  'User.awayUntil(absent GP)': {
    request: () => ({ query: ABSENT_GP('awayUntil') }),
    found: (d, c) => absentGp(d, c).map((u: Data) => u.awayUntil),
  },
  'User.absences(absent GP)': {
    request: () => ({ query: ABSENT_GP('absences { id }') }),
    found: (d, c) => absentGp(d, c).map((u: Data) => u.absences),
  },
};

const messagesOf = (payloads: Data[], watched: string[]) =>
  payloads.map((p) => p.messageAdded).filter((m: Data) => m && watched.includes(m.threadId));
const activitiesOf = (payloads: Data[], watched: string[]) =>
  payloads.map((p) => p.threadActivity).filter((a: Data) => a && watched.includes(a.threadId));

/** The world's thread is `thread`; `leftLive` is a thread like it that the leaver leaves while everyone is subscribed. */
const LIVE_PROBES: Record<string, LiveProbe> = {
  'Subscription.threadActivity': {
    query: `subscription { threadActivity { threadId kind } }`,
    found: activitiesOf,
  },
  'Subscription.messageAdded': {
    query: `subscription { messageAdded { id threadId } }`,
    found: messagesOf,
  },
  'Subscription.messageAdded(threadId: thread)': {
    query: `subscription($t: ID) { messageAdded(threadId: $t) { id threadId } }`,
    variables: (c) => ({ t: c.thread }),
    found: messagesOf,
  },
  'Subscription.messageAdded(threadId: leftLive)': {
    query: `subscription($t: ID) { messageAdded(threadId: $t) { id threadId } }`,
    variables: (_c, leftLive) => ({ t: leftLive }),
    found: messagesOf,
  },
};

/**
 * How each object type is reached by a role: an operation with the probed
 * field in place of `${sel}`, and the objects in the answer that stand for the
 * world's protected thing.
 */
interface Reach {
  request(ctx: Ctx, role: Role, sel: string): HttpRequest;
  parents: Found;
}

const REGISTER_PUSH = `mutation($s: PushSubscriptionInput!) { registerPushSubscription(subscription: $s) { pushDevices } }`;
/** A browser's push subscription of the role's own (a P-256 key and an auth secret of the right sizes). */
const pushSubscription = (role: Role) => ({
  endpoint: `https://push.example/${role}`,
  keys: { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') },
});

const inThread = (sel: string) => ({ query: `query($t: ID!) { thread(id: $t) { ${sel} } }` });

const REACH: Record<string, Reach | 'live'> = {
  NotificationSettings: {
    request: (_c, _r, sel) => ({ query: `{ notificationSettings { ${sel} } }` }),
    parents: (d) => one(d?.notificationSettings),
  },
  QuietHours: {
    request: (_c, _r, sel) => ({ query: `mutation { updateNotificationSettings(input: { quietHours: { start: "22:00", end: "07:00", timeZone: "UTC" } }) { quietHours { ${sel} } } }` }),
    parents: (d) => one(d?.updateNotificationSettings?.quietHours ?? undefined),
  },
  AuditEvent: {
    request: (c, _r, sel) => ({ query: `query($t: ID!) { auditTrail(threadId: $t) { id ${sel} } }`, variables: { t: c.thread } }),
    parents: (d) => list(d?.auditTrail),
  },
  AuditEventConnection: {
    request: (c, _r, sel) => ({ query: `query($t: ID!) { auditEvents(filter: { threadId: $t }, first: 100) { ${sel} } }`, variables: { t: c.thread } }),
    parents: (d) => one(d?.auditEvents ?? undefined),
  },
  AuditEventEdge: {
    request: (c, _r, sel) => ({
      query: `query($t: ID!) { auditEvents(filter: { threadId: $t }, first: 100) { edges { node { threadId action outcome } ${sel} } } }`,
      variables: { t: c.thread },
    }),
    parents: (d, c) => ofTheThread(c, list(d?.auditEvents?.edges)),
  },
  AuditCheckpoint: {
    request: (_c, _r, sel) => ({ query: `{ auditCheckpoint { organisationId ${sel} } }` }),
    parents: theWorldsCheckpoint,
  },
  AccessLogConnection: {
    request: (_c, _r, sel) => ({ query: `{ myAccessLog(first: 100) { ${sel} } }` }),
    parents: (d) => one(d?.myAccessLog ?? undefined),
  },
  AccessLogEdge: {
    request: (_c, _r, sel) => ({ query: `{ myAccessLog(first: 100) { edges { node { threadId } ${sel} } } }` }),
    parents: (d, c) => list(d?.myAccessLog?.edges).filter((e: Data) => e.node.threadId === c.thread),
  },
  AccessLogEntry: {
    request: (_c, _r, sel) => ({ query: `{ myAccessLog(first: 100) { edges { node { threadId ${sel} } } } }` }),
    parents: (d, c) => list(d?.myAccessLog?.edges).map((e: Data) => e.node).filter((n: Data) => n.threadId === c.thread),
  },
  User: {
    request: (_c, _r, sel) => ({ query: `{ me { id ${sel} } }` }),
    parents: (d) => one(d?.me),
  },
  Absence: {
    request: (_c, _r, sel) => ({ query: ABSENT_GP(`absences { ${sel} }`) }),
    parents: (d, c) => absentGp(d, c).flatMap((u: Data) => list(u.absences)),
  },
  Team: {
    request: (_c, _r, sel) => ({ query: `{ teams { id ${sel} } }` }),
    parents: (d, c) => list(d?.teams).filter((t: Data) => t.id === c.careTeam.id),
  },
  Organisation: {
    request: (_c, _r, sel) => ({ query: `{ teams { id organisation { id ${sel} } } }` }),
    parents: (d, c) => list(d?.teams).filter((t: Data) => t.id === c.careTeam.id).map((t: Data) => t.organisation),
  },
  TeamRecipient: {
    request: (_c, _r, sel) => ({ query: `{ recipients(first: 100) { ... on TeamRecipient { team { id } ${sel} } } }` }),
    parents: (d, c) => list(d?.recipients).filter((r: Data) => r.team?.id === c.careTeam.id),
  },
  UserRecipient: {
    request: (_c, _r, sel) => ({ query: `{ recipients(first: 100) { ... on UserRecipient { user { id } ${sel} } } }` }),
    parents: (d, c) => list(d?.recipients).filter((r: Data) => r.user?.id === c.gp.id),
  },
  ThreadConnection: {
    request: (_c, _r, sel) => ({ query: `{ threads(first: 100) { ${sel} } }` }),
    parents: (d) => one(d?.threads),
  },
  ThreadEdge: {
    request: (_c, _r, sel) => ({ query: `{ threads(first: 100) { edges { node { id } ${sel} } } }` }),
    parents: (d, c) => list(d?.threads?.edges).filter((e: Data) => e.node.id === c.thread),
  },
  PageInfo: {
    request: (_c, _r, sel) => ({ query: `{ threads(first: 100) { pageInfo { ${sel} } } }` }),
    parents: (d) => one(d?.threads?.pageInfo),
  },
  Thread: {
    request: (c, _r, sel) => ({ ...inThread(`id ${sel}`), variables: { t: c.thread } }),
    parents: (d) => one(d?.thread),
  },
  Participant: {
    request: (c, _r, sel) => ({ ...inThread(`participants { ${sel} }`), variables: { t: c.thread } }),
    parents: (d) => list(d?.thread?.participants),
  },
  MessageConnection: {
    request: (c, _r, sel) => ({ ...inThread(`messages(first: 100) { ${sel} }`), variables: { t: c.thread } }),
    parents: (d) => one(d?.thread?.messages),
  },
  MessageEdge: {
    request: (c, _r, sel) => ({ ...inThread(`messages(first: 100) { edges { ${sel} } }`), variables: { t: c.thread } }),
    parents: (d) => list(d?.thread?.messages?.edges),
  },
  Message: {
    request: (c, _r, sel) => ({ ...inThread(`messages(first: 100) { edges { node { ${sel} } } }`), variables: { t: c.thread } }),
    parents: (d) => list(d?.thread?.messages?.edges).map((e: Data) => e.node),
  },
  Attachment: {
    request: (c, _r, sel) => ({ ...inThread(`messages(first: 100) { edges { node { attachments { ${sel} } } } }`), variables: { t: c.thread } }),
    parents: (d) => list(d?.thread?.messages?.edges).flatMap((e: Data) => list(e.node.attachments)),
  },
  AttachmentLink: {
    request: (c, _r, sel) => ({ query: `query($a: ID!) { attachmentLink(id: $a) { ${sel} } }`, variables: { a: c.attachment } }),
    parents: (d) => one(d?.attachmentLink),
  },
  AuthPayload: {
    request: (c, role, sel) => ({
      query: `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${sel} } }`,
      variables: credentialsOf(c, role),
    }),
    parents: (d) => one(d?.login),
  },
  TeamInboxConnection: {
    request: (c, _r, sel) => ({ query: doneInbox(sel), variables: { team: c.careTeam.id } }),
    parents: (d) => one(d?.teamInbox ?? undefined),
  },
  TeamInboxEdge: {
    request: (c, _r, sel) => ({ query: doneInbox(`edges { node { threadId } ${sel} }`), variables: { team: c.careTeam.id } }),
    parents: (d, c) => list(d?.teamInbox?.edges).filter((e: Data) => e.node.threadId === c.thread),
  },
  TeamInboxItem: {
    request: (c, _r, sel) => ({ ...inThread(`inbox { teamId ${sel} }`), variables: { t: c.thread } }),
    parents: (d, c) => list(d?.thread?.inbox).filter((i: Data) => i.teamId === c.careTeam.id),
  },
  // Only ever delivered live: probed over graphql-ws, see fieldLiveProbe.
  ThreadActivity: 'live',
};

/** Every field coordinate of the built schema, with how to select it. */
interface SchemaField {
  coordinate: string;
  typeName: string;
  /** `probe: field` with a `{ __typename }` when it is an object or a union. */
  selection: string;
  requiredArgs: string[];
}

async function schemaFields(): Promise<SchemaField[]> {
  const schema = await getSchema();
  const fields: SchemaField[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const composite = isCompositeType(getNamedType(field.type));
      fields.push({
        coordinate: `${type.name}.${field.name}`,
        typeName: type.name,
        selection: `probe: ${field.name}${composite ? ' { __typename }' : ''}`,
        requiredArgs: field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined).map((a) => a.name),
      });
    }
  }
  return fields;
}

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** An object field probed over HTTP: REACH's operation with the field aliased `probe`. */
function fieldHttpProbe(field: SchemaField, reach: Reach): HttpProbe {
  return {
    request: (c, role) => reach.request(c, role, field.selection),
    found: (d, c) => reach.parents(d, c).map((p: Data) => p?.probe),
  };
}

/** A ThreadActivity field: the dashboard feed, with the field aliased `probe`. */
function fieldLiveProbe(field: SchemaField): LiveProbe {
  return {
    query: `subscription { threadActivity { threadId ${field.selection} } }`,
    found: (payloads, watched) => activitiesOf(payloads, watched).map((a: Data) => a.probe),
  };
}

/** Every probe, by table key; a key with no way to probe it is missing here (and reported by the first test). */
async function allProbes(): Promise<{ http: Map<string, HttpProbe>; live: Map<string, LiveProbe>; unprobeable: string[] }> {
  const http = new Map<string, HttpProbe>(Object.entries(ROOT_PROBES));
  const live = new Map<string, LiveProbe>(Object.entries(LIVE_PROBES));
  const unprobeable: string[] = [];
  for (const field of await schemaFields()) {
    if (ROOT_TYPES.has(field.typeName)) continue;
    const reach = REACH[field.typeName];
    if (!reach) unprobeable.push(`${field.coordinate} (no REACH for type ${field.typeName})`);
    else if (field.requiredArgs.length) unprobeable.push(`${field.coordinate} (required arguments ${field.requiredArgs.join(', ')})`);
    else if (reach === 'live') live.set(field.coordinate, fieldLiveProbe(field));
    else http.set(field.coordinate, fieldHttpProbe(field, reach));
  }
  return { http, live, unprobeable };
}

// ---------------------------------------------------------------------------
// Outcomes

type Actual = Outcome | string;

/** From the values `found` picked: none, only nulls, or something. */
function fromValues(values: unknown[]): Actual {
  if (!values.length) return ABSENT;
  return values.some((v) => v !== null && v !== undefined) ? OK : NULL;
}

/** An error's code; data that came with an error still counts as seen ('ok+CODE'). */
function fromErrors(errors: readonly GraphQLFormattedError[], values: unknown[]): Actual {
  const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? `no code: ${e.message}`)))].join('+');
  return fromValues(values) === OK ? `ok+${codes}` : codes;
}

interface CaseResult {
  key: string;
  role: Role;
  transport: 'http' | 'ws';
  expected: Outcome;
  actual: Actual;
}

const isLeak = (r: CaseResult) => r.expected !== OK && r.actual.startsWith(OK);
const results: CaseResult[] = [];

async function runHttp(ctx: Ctx, key: string, probe: HttpProbe, role: Role): Promise<CaseResult> {
  const { query, variables, token } = await probe.request(ctx, role);
  const result = await gql(ctx.server.url, query, variables, token ?? tokenOf(ctx, role));
  const values = result.data ? probe.found(result.data, ctx) : [];
  const actual = result.errors?.length ? fromErrors(result.errors, values) : fromValues(values);
  return { key, role, transport: 'http', expected: EXPECTED[key][role], actual };
}

/** One live subscription and everything it got. */
interface Watch {
  key: string;
  role: Role;
  probe: LiveProbe;
  payloads: Data[];
  errors: GraphQLFormattedError[];
  closeCode: number | null;
  ended: boolean;
}

function watch(client: Client, key: string, role: Role, probe: LiveProbe, variables: Record<string, unknown> | undefined): Watch {
  const w: Watch = { key, role, probe, payloads: [], errors: [], closeCode: null, ended: false };
  client.subscribe(
    { query: probe.query, variables },
    {
      next: (value) => {
        if (value.errors) w.errors.push(...value.errors);
        if (value.data) w.payloads.push(value.data);
      },
      error: (error) => {
        if (Array.isArray(error)) w.errors.push(...(error as GraphQLFormattedError[]));
        else if (typeof (error as { code?: unknown })?.code === 'number') w.closeCode = (error as { code: number }).code;
        else w.errors.push({ message: String(error) });
        w.ended = true;
      },
      complete: () => {
        w.ended = true;
      },
    },
  );
  return w;
}

function liveOutcome(w: Watch, watched: string[]): Actual {
  const values = w.probe.found(w.payloads, watched);
  if (w.closeCode !== null) {
    const refused = w.closeCode === 4401 ? UNAUTH : `closed ${w.closeCode}`;
    return fromValues(values) === OK ? `ok+${refused}` : refused;
  }
  if (w.errors.length) return fromErrors(w.errors, values);
  return fromValues(values);
}

function report(rows: CaseResult[]): string {
  return rows
    .map((r) => `  ${r.key.padEnd(48)} ${r.role.padEnd(15)} expected ${r.expected.padEnd(16)} got ${r.actual}${isLeak(r) ? '   <-- LEAK' : ''}`)
    .join('\n');
}

function expectAllMatch(rows: CaseResult[]) {
  const mismatches = rows.filter((r) => r.actual !== r.expected);
  if (mismatches.length) {
    throw new Error(`${mismatches.length} of ${rows.length} cases differ from the table (${mismatches.filter(isLeak).length} leaks):\n${report(mismatches)}`);
  }
}

// ---------------------------------------------------------------------------
// The tests

let ctx: Ctx;
let server: TestServer | undefined;
const started = Date.now();

beforeAll(async () => {
  // With VAPID keys, so that pushPublicKey has one to give; the notifier does not poll during the run.
  const vapid = webpush.generateVAPIDKeys();
  server = await startTestServer({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@clinic.example', PUSH_SERVICE_HOSTS: 'push.example', NOTIFY_POLL_MS: '3600000' });
  ctx = await buildWorld(server);
}, 30_000);

afterAll(async () => {
  // Closed even when building the world failed, or jest would wait for it forever.
  await server?.close();
  const operations = new Set(results.map((r) => r.key)).size;
  const leaks = results.filter(isLeak);
  const mismatches = results.filter((r) => r.actual !== r.expected).length;
  const http = results.filter((r) => r.transport === 'http').length;
  console.log(
    `authorization matrix: ${operations} operations x ${ROLES.length} roles = ${results.length} calls ` +
      `(${http} over HTTP, ${results.length - http} over graphql-ws), leaks ${leaks.length}, mismatches ${mismatches}, ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s` +
      (leaks.length ? `\nleaks:\n${report(leaks)}` : ''),
  );
});

test('every query, mutation, subscription and object field of the built schema has a row in the table, and every row a coordinate', async () => {
  const coordinates = (await schemaFields()).map((f) => f.coordinate);
  const inTable = new Set(Object.keys(EXPECTED).map(coordinateOf));
  const schemaSet = new Set(coordinates);
  const { http, live, unprobeable } = await allProbes();
  const problems = [
    ...coordinates.filter((c) => !inTable.has(c)).map((c) => `no expected outcome for ${c}`),
    ...Object.keys(EXPECTED)
      .filter((key) => !schemaSet.has(coordinateOf(key)))
      .map((key) => `the table has ${key}, which the schema no longer has`),
    ...Object.keys(EXPECTED)
      .filter((key) => schemaSet.has(coordinateOf(key)) && !http.has(key) && !live.has(key))
      .map((key) => `no probe for ${key} (add it to ROOT_PROBES, LIVE_PROBES or REACH)`),
    ...[...http.keys(), ...live.keys()].filter((key) => !(key in EXPECTED)).map((key) => `a probe for ${key}, which the table does not have`),
    ...unprobeable.map((what) => `cannot probe ${what}`),
  ];
  expect(problems).toEqual([]);
});

test('queries and object fields over HTTP, as each role', async () => {
  const { http } = await allProbes();
  const rows: CaseResult[] = [];
  // The access log's fields first: every read of the world's thread the others try is an entry of the patient's
  // log, newest first, and a hundred of them would push the world's delivery (AccessLogEntry.messageId) off its page.
  const accessLogFirst = [...http].sort(([a], [b]) => Number(b.startsWith('AccessLog')) - Number(a.startsWith('AccessLog')));
  for (const [key, probe] of accessLogFirst) {
    if (!(key in EXPECTED) || key.startsWith('Mutation.')) continue;
    // Reads only (and their THREAD_READ audit entries): the roles go at once.
    rows.push(...(await Promise.all(ROLES.map((role) => runHttp(ctx, key, probe, role)))));
  }
  results.push(...rows);
  expectAllMatch(rows);
}, 60_000);

test('mutations over HTTP, as each role, none spoiling the next', async () => {
  const { http } = await allProbes();
  const rows: CaseResult[] = [];
  for (const [key, probe] of http) {
    if (!(key in EXPECTED) || !key.startsWith('Mutation.')) continue;
    // One after another: changes of state must not race each other.
    for (const role of ROLES) rows.push(await runHttp(ctx, key, probe, role));
  }
  results.push(...rows);
  expectAllMatch(rows);
}, 60_000);

test('subscriptions and ThreadActivity fields over graphql-ws, as each role: a send reaches exactly the roles the table allows', async () => {
  const { live } = await allProbes();
  const { people, world, server } = ctx;
  // Subscribed before the leaver leaves it: "one who left stops at once".
  const leftLive = await freshThreadKeepingLeaver(ctx);
  const watched = [ctx.thread, leftLive];

  const clients = new Map<Role, Client>(ROLES.map((role): [Role, Client] => [role, connect(server.wsUrl, tokenOf(ctx, role) ?? null)]));
  try {
    const baseline = server.live.size;
    const watches: Watch[] = [];
    for (const [key, probe] of live) {
      if (!(key in EXPECTED)) continue;
      for (const role of ROLES) watches.push(watch(clients.get(role)!, key, role, probe, probe.variables?.(ctx, leftLive)));
    }

    // Every subscription still open is listening (and every refused one has ended) before anything happens.
    const listening = () => watches.filter((w) => !w.ended).length;
    await until(() => server.live.size - baseline === listening(), 5000).catch(() => {
      throw new Error(`subscriptions did not settle: ${server.live.size - baseline} live subscriptions for ${listening()} expected`);
    });

    await world.leave(people.leaver, leftLive);
    await world.send(people.participant, leftLive, 'Sent after the leaver left');
    await world.send(people.participant, ctx.thread, 'Sent live in the world thread');

    // Wait for what the table says must arrive; then let everything in flight land before judging.
    await until(() => watches.every((w) => liveOutcome(w, watched) === EXPECTED[w.key][w.role]), 3000).catch(() => undefined);
    for (const [role, client] of clients) if (role !== 'anonymous') await settle(client).catch(() => undefined);

    const rows = watches.map((w): CaseResult => ({ key: w.key, role: w.role, transport: 'ws', expected: EXPECTED[w.key][w.role], actual: liveOutcome(w, watched) }));
    results.push(...rows);
    expectAllMatch(rows);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.dispose()));
  }
}, 30_000);

