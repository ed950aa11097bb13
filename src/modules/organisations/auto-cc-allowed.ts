import type { Organisation } from './organisation.entity';

/**
 * Why a team of `organisation` may not have automatic CC, or null when it may:
 * only where a platform admin allowed it (setOrganisationAutoCc). The one rule
 * for the API (TeamService) and the directory import.
 */
export function autoCcRefusal(organisation: Pick<Organisation, 'name' | 'autoCcAllowed'>): string | null {
  return organisation.autoCcAllowed ? null : `Automatic CC is not allowed in ${organisation.name}: a platform admin must allow it first`;
}
