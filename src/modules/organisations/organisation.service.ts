import type { DataSource, EntityManager } from 'typeorm';
import { newId } from '../../common/ids';
import { requireName } from '../../common/text';
import { badUserInput, notFound } from '../../errors';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import { UserKind } from '../users/user-kind';
import { isProfessional, type User } from '../users/user.entity';
import { requireAdmin, requirePlatformAdmin } from '../users/user-rules';
import type { UserService } from '../users/user.service';
import type { FirstAdminInput } from './first-admin.input';
import { Organisation } from './organisation.entity';
import { lockedOrganisation } from './organisation-lookup';

/** Organisations: a platform admin creates them, each with its first admin, who manages the rest of it. */
export class OrganisationService {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly users: Pick<UserService, 'newAccount' | 'insertAccount'>;

  constructor(deps: { db: DataSource; uow: AuditedUnitOfWork; users: Pick<UserService, 'newAccount' | 'insertAccount'> }) {
    ({ db: this.db, uow: this.uow, users: this.users } = deps);
  }

  /** Every organisation for a platform admin, by name; a professional's own for anyone else; none for a patient. */
  async list(viewer: User): Promise<Organisation[]> {
    if (viewer.isPlatformAdmin) return this.db.manager.find(Organisation, { order: { name: 'ASC', id: 'ASC' } });
    return isProfessional(viewer) ? this.db.manager.findBy(Organisation, { id: viewer.organisationId! }) : [];
  }

  /**
   * Platform admins only: a new organisation, automatic CC allowed or not, and its first admin (a
   * non-contactable professional), in one transaction: an organisation never lacks an admin. A name is
   * used once; so is an email, in any organisation.
   */
  async create(viewer: User, name: string, autoCcAllowed: boolean, firstAdmin: FirstAdminInput): Promise<Organisation> {
    requirePlatformAdmin(viewer);
    const organisation = Object.assign(new Organisation(), { id: newId(), name: requireName('name', name), autoCcAllowed, createdAt: new Date() });
    const admin = await this.users.newAccount({ ...firstAdmin, kind: UserKind.PROFESSIONAL, contactable: false, isAdmin: true }, organisation.id);
    return this.uow.run(async (tx) => {
      await requireFreeName(tx.manager, organisation.name);
      await tx.manager.insert(Organisation, organisation);
      await tx.audit({ actor: viewer, action: AuditAction.OrganisationCreated, organisationId: organisation.id });
      await this.users.insertAccount(tx, viewer, admin);
      return organisation;
    });
  }

  /** A platform admin renames any organisation, an organisation's admin their own (another's is NOT_FOUND). A name is used once. */
  async rename(viewer: User, organisationId: string, name: string): Promise<Organisation> {
    const own = requireAdmin(viewer, 'Only an admin may rename an organisation');
    if (!viewer.isPlatformAdmin && organisationId !== own) throw notFound('Organisation');
    const newName = requireName('name', name);
    return this.uow.run(async (tx) => {
      const organisation = await lockedOrganisation(tx.manager, organisationId, 'update');
      if (organisation.name === newName) return organisation;
      await requireFreeName(tx.manager, newName);
      await tx.manager.update(Organisation, { id: organisation.id }, { name: newName });
      await tx.audit({ actor: viewer, action: AuditAction.OrganisationRenamed, organisationId: organisation.id });
      return Object.assign(organisation, { name: newName });
    });
  }
}

async function requireFreeName(m: EntityManager, name: string): Promise<void> {
  if (await m.existsBy(Organisation, { name })) throw badUserInput(`An organisation named "${name}" already exists`);
}
