import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('AuditCheckpoint', {
  description:
    "A signed head of an organisation's own audit chain. Kept outside CareThread (a ticket, another system), it lets the organisation prove later that nothing of its audit log up to it was changed or removed: `npm run audit:verify -- --organisation <id> --checkpoint <file with exported>`.",
})
export class SignedCheckpoint {
  @Field(() => ID)
  organisationId!: string;

  @Field(() => Int, { description: "How many events the organisation's chain had." })
  events!: number;

  @Field({ description: 'The hash of the last link of the chain (SHA-256, hex).' })
  headHash!: string;

  @Field({ description: 'When it was signed.' })
  at!: Date;

  @Field({ description: 'Which key signed it: the first 16 bytes (hex) of the SHA-256 of its public key.' })
  keyId!: string;

  @Field({ description: 'Ed25519 over the signed text (base64).' })
  signature!: string;

  @Field({ description: 'The public half of the signing key (PEM, SPKI), to check the signature with.' })
  publicKey!: string;

  @Field({ description: 'The checkpoint as one line of JSON, as audit:verify --checkpoint reads it.' })
  exported!: string;
}
