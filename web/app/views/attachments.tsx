// A placeholder until the view is built: the contract the thread's reply and the new-thread form use.
import type { JSX } from 'preact';
import type { AttachmentFieldsFragment } from '../../gql/graphql';

/** The files picked for one message: the picker to show, and what the form needs to send them. */
export interface PickedFiles {
  /** The "Attach files" control with a chip per file (progress, thumbnail, Remove, the server's refusal). */
  picker: JSX.Element;
  /** The uploaded files' ids, in the order picked, to send as attachmentIds. */
  ids: string[];
  /** True while a file is still uploading: the form waits before it sends. */
  uploading: boolean;
  /** Forgets the files, after a send. */
  clear(): void;
}

export function useAttachments(): PickedFiles {
  return { picker: <></>, ids: [], uploading: false, clear: () => undefined };
}

/** A message's files: thumbnails, names and sizes, each with a Download button that asks for a link on the click. */
export function AttachmentList(_props: { attachments: AttachmentFieldsFragment[] }) {
  return null;
}
