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
}
