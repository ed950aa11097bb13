import { OutboxEvent } from './events/outbox-event.entity';
import { Absence } from './modules/absences/absence.entity';
import { AuditCheckpoint } from './modules/audit/audit-checkpoint.entity';
import { AuditEvent, AuditEventPatient } from './modules/audit/audit-event.entity';
import { Session } from './modules/auth/session.entity';
import { ProfessionalShare, TeamShare } from './modules/care-network/record-share.entity';
import { Message } from './modules/messages/message.entity';
import { TeamMember } from './modules/teams/team-member.entity';
import { Team } from './modules/teams/team.entity';
import { Participant } from './modules/threads/participant.entity';
import { ThreadTeam } from './modules/threads/thread-team.entity';
import { Thread } from './modules/threads/thread.entity';
import { User } from './modules/users/user.entity';
import { Initial1764000000000 } from './migrations/1764000000000-initial';
import { UserDisabled1765000000000 } from './migrations/1765000000000-user-disabled';
import { AuditChain1766000000000 } from './migrations/1766000000000-audit-chain';
import { TeamInbox1767000000000 } from './migrations/1767000000000-team-inbox';
import { TeamLife1768000000000 } from './migrations/1768000000000-team-life';
import { ExternalIdentity1769000000000 } from './migrations/1769000000000-external-identity';
import { Outbox1770000000000 } from './migrations/1770000000000-outbox';
import { Sessions1771000000000 } from './migrations/1771000000000-sessions';
import { ThreadLastMessage1772100000000 } from './migrations/1772100000000-thread-last-message';
import { SearchNames1772200000000 } from './migrations/1772200000000-search-names';
import { AuditSealing1772300000000 } from './migrations/1772300000000-audit-sealing';
import { RecipientIndexes1772450000000 } from './migrations/1772450000000-recipient-indexes';

export const entities = [User, Team, TeamMember, TeamShare, ProfessionalShare, Thread, Participant, ThreadTeam, Message, AuditEvent, AuditEventPatient, AuditCheckpoint, Absence, OutboxEvent, Session];

export const migrations = [Initial1764000000000, UserDisabled1765000000000, AuditChain1766000000000, TeamInbox1767000000000, TeamLife1768000000000, ExternalIdentity1769000000000, Outbox1770000000000, Sessions1771000000000, ThreadLastMessage1772100000000, SearchNames1772200000000, AuditSealing1772300000000, RecipientIndexes1772450000000];
