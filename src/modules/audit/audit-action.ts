/** Fixed audit action codes; AuditEvent.action is always one of these. */
export enum AuditAction {
  ThreadCreated = 'THREAD_CREATED',
  ThreadRead = 'THREAD_READ',
  ThreadMarkedRead = 'THREAD_MARKED_READ',
  MessageSent = 'MESSAGE_SENT',
  ParticipantAdded = 'PARTICIPANT_ADDED',
  ParticipantLeft = 'PARTICIPANT_LEFT',
  UserCreated = 'USER_CREATED',
  ContactableChanged = 'CONTACTABLE_CHANGED',
  TeamCreated = 'TEAM_CREATED',
  TeamMemberAdded = 'TEAM_MEMBER_ADDED',
  TeamMemberRemoved = 'TEAM_MEMBER_REMOVED',
  TeamAutoCcChanged = 'TEAM_AUTO_CC_CHANGED',
  RecordShared = 'RECORD_SHARED',
  UserDisabled = 'USER_DISABLED',
  UserEnabled = 'USER_ENABLED',
  /** A message pushed live to subscribers; `recipients` lists them (one event per message and instance). */
  MessageDelivered = 'MESSAGE_DELIVERED',
  AuditTrailRead = 'AUDIT_TRAIL_READ',
  /** A patient read who accessed their data. */
  AccessLogRead = 'ACCESS_LOG_READ',
  /** An admin searched or exported audit events. */
  AuditSearched = 'AUDIT_SEARCHED',
  /** A member claimed a team thread or assigned it (`subject`: the assignee; `team`: whose inbox). */
  ThreadAssigned = 'THREAD_ASSIGNED',
  /** The assignee was cleared: by a member, or because they left the thread or the team (`subject`: the former assignee). */
  ThreadUnassigned = 'THREAD_UNASSIGNED',
  ThreadMarkedDone = 'THREAD_MARKED_DONE',
  /** By a member, or by the patient's new message (then the actor is the patient). */
  ThreadReopened = 'THREAD_REOPENED',
  /**
   * A patient's message waited longer than the team's limit: `recipients` lists the members alerted.
   * As for MESSAGE_DELIVERED the actor is the waiting message's author; nobody else acted.
   */
  ThreadEscalated = 'THREAD_ESCALATED',
  TeamWaitingLimitChanged = 'TEAM_WAITING_LIMIT_CHANGED',
  /** Someone else took the participant out: removed from the team they were in the thread through (`team`). */
  ParticipantRemoved = 'PARTICIPANT_REMOVED',
  /** `subject`: the professional who is away. */
  AbsenceRecorded = 'ABSENCE_RECORDED',
  AbsenceCancelled = 'ABSENCE_CANCELLED',
  TeamCoverageMinimumChanged = 'TEAM_COVERAGE_MINIMUM_CHANGED',
  /** A staff account was linked to its identity at the hospital's OIDC provider on its first sign-in there; the actor is that person. */
  ExternalIdentityLinked = 'EXTERNAL_IDENTITY_LINKED',
  /** The actor ended the session their token named (signOut). */
  SignedOut = 'SIGNED_OUT',
  /** The actor ended all their sessions (signOutEverywhere). */
  SignedOutEverywhere = 'SIGNED_OUT_EVERYWHERE',
  /** The actor changed their password; their other sessions ended. */
  PasswordChanged = 'PASSWORD_CHANGED',
  /** At start, the admin ADMIN_EMAIL names, from before organisations, became the platform admin (actor and subject). */
  PlatformAdminGranted = 'PLATFORM_ADMIN_GRANTED',
  /** A platform admin created an organisation (with its first admin: a USER_CREATED). */
  OrganisationCreated = 'ORGANISATION_CREATED',
  /** A platform admin allowed or disallowed automatic CC in an organisation (disallowing turns it off in its teams: TEAM_AUTO_CC_CHANGED each). */
  OrganisationAutoCcChanged = 'ORGANISATION_AUTO_CC_CHANGED',
  /** A platform admin, or the organisation's own admin, renamed an organisation. */
  OrganisationRenamed = 'ORGANISATION_RENAMED',
  /**
   * The actor was told that a secure message waits in the thread (`channel`: EMAIL or PUSH), with no content.
   * Nobody acted: as for MESSAGE_DELIVERED, the event is about who was reached.
   */
  NotificationSent = 'NOTIFICATION_SENT',
  /** The actor changed their notification settings, registered or removed a browser for push, or unsubscribed through an e-mail's link. */
  NotificationSettingsChanged = 'NOTIFICATION_SETTINGS_CHANGED',
  /** The actor uploaded a file, not yet sent with a message (sending it is the MESSAGE_SENT). */
  AttachmentUploaded = 'ATTACHMENT_UPLOADED',
  /** The actor downloaded a message's attachment (`messageId`), or their own upload not yet sent. */
  AttachmentRead = 'ATTACHMENT_READ',
}
