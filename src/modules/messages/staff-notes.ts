import { isProfessional, type User } from '../users/user.entity';

// Staff-only notes are for the professionals of a thread. A patient never
// sees one in any form: not in messages, lastMessage or unreadCount, not
// live, not in the audit trail or access log (audit/patient-view.ts). Reads of
// messages apply this through threads/thread-visibility.ts.

/** Whether `viewer` sees staff-only notes: professionals do, patients never. */
export const seesStaffNotes = (viewer: Pick<User, 'kind'>): boolean => isProfessional(viewer);
