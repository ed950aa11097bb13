import { registerEnumType } from 'type-graphql';

export enum UserKind {
  PATIENT = 'PATIENT',
  PROFESSIONAL = 'PROFESSIONAL',
}

registerEnumType(UserKind, { name: 'UserKind' });
