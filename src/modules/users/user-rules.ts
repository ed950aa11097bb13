import { Length } from 'class-validator';
import { forbidden } from '../../errors';
import type { User } from './user.entity';

export const ACCOUNT_DISABLED = 'This account is disabled';
/** Why a disabled account's live connections are closed (4401). */
export const DISABLED_REASON = 'Account disabled';

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** FORBIDDEN unless the viewer is an admin. */
export function requireAdmin(viewer: User): void {
  if (!viewer.isAdmin) throw forbidden('Only an admin may do this');
}

/** The rule every new password keeps (createUser, changePassword). */
export const IsNewPassword = () => Length(8, 200, { message: 'password must be 8 to 200 characters' });
