import { Length } from 'class-validator';
import { forbidden } from '../../errors';
import type { User } from './user.entity';

export const ACCOUNT_DISABLED = 'This account is disabled';
/** Why a disabled account's live connections are closed (4401). */
export const DISABLED_REASON = 'Account disabled';

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** FORBIDDEN (with `refusal`) unless the viewer is an admin; the organisation they manage. */
export function requireAdmin(viewer: User, refusal = 'Only an admin may do this'): string {
  // An admin is a professional, and every professional belongs to an organisation.
  if (!viewer.isAdmin || !viewer.organisationId) throw forbidden(refusal);
  return viewer.organisationId;
}

/** FORBIDDEN unless the viewer is a platform admin. */
export function requirePlatformAdmin(viewer: User): void {
  if (!viewer.isPlatformAdmin) throw forbidden('Only a platform admin may do this');
}

/** The rule every new password keeps (createUser, changePassword). */
export const IsNewPassword = () => Length(8, 200, { message: 'password must be 8 to 200 characters' });
