import type { Ref } from 'preact';
import type { AttachmentFieldsFragment } from '../../../gql/graphql';
import type { Upload } from '../../api';
import { formatSize } from '../../format';
import { FileIcon, Preview } from './preview';

/** One picked file, from its upload started until it is sent or removed. */
export interface PickedFile {
  key: number;
  file: File;
  /** While its bytes are being sent or checked; null once answered. */
  upload: Upload | null;
  sent: number;
  total: number;
  /** Once stored: what is sent with the message. */
  attachment: AttachmentFieldsFragment | null;
  /** Why it was refused: the server's reason. */
  error: string;
}

/** A picked file: its preview, name, size, upload progress, Remove, and the server's refusal. */
export function UploadChip({ item, remove, removeRef }: { item: PickedFile; remove: () => void; removeRef: Ref<HTMLButtonElement> }) {
  const { file, attachment } = item;
  return (
    <li class={item.error ? 'upload refused' : 'upload'}>
      {/* Until stored, what the browser guesses from the name; then what the server found in the contents. */}
      {attachment ? <Preview attachment={attachment} alt="" box={48} /> : <FileIcon contentType={file.type} />}
      <span class="file">
        <span class="name">{attachment?.name ?? file.name}</span>
        <span class="size">{formatSize(attachment?.size ?? file.size)}</span>
        {item.upload && <progress max={item.total} value={item.sent} aria-label={`Uploading ${file.name}`} />}
      </span>
      <button type="button" class="remove" aria-label={`Remove ${file.name}`} onClick={remove} ref={removeRef}>
        Remove
      </button>
      <p class="error" role="alert">
        {item.error}
      </p>
    </li>
  );
}
