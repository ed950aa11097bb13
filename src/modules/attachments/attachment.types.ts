import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { AttachmentData } from '../../events/event-bus';
import { ATTACHMENTS_PATH } from './attachment-link';

@ObjectType('Attachment', { description: 'A file on a message. Its bytes are downloaded over HTTP: `url` with the bearer token, or attachmentLink for a browser.' })
export class AttachmentType implements AttachmentData {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The name the sender gave the file; it never decides its type.' })
  name!: string;

  @Field({ description: 'Decided by the contents: image/jpeg, image/png, image/webp or application/pdf.' })
  contentType!: string;

  @Field(() => Int, { description: 'Bytes, as stored (an image after its metadata was removed).' })
  size!: number;

  @Field(() => Int, { nullable: true, description: 'Pixels, for an image.' })
  width!: number | null;

  @Field(() => Int, { nullable: true, description: 'Pixels, for an image.' })
  height!: number | null;

  thumbnail!: string | null;

  @Field(() => String, { nullable: true, name: 'thumbnail', description: 'For an image: a WebP of at most 160 px a side, as a data: URL.' })
  get thumbnailUrl(): string | null {
    return this.thumbnail ? `data:image/webp;base64,${this.thumbnail}` : null;
  }

  @Field({ description: 'Where GET downloads it, with `Authorization: Bearer`: a path on this server.' })
  get url(): string {
    return `${ATTACHMENTS_PATH}/${this.id}`;
  }
}

@ObjectType({ description: 'A short-lived download link for a browser (an <a href> or <img src>, which cannot send a bearer token).' })
export class AttachmentLink {
  @Field({ description: 'Valid until expiresAt, for the viewer only; access is checked again when it is used.' })
  url!: string;

  @Field()
  expiresAt!: Date;
}
