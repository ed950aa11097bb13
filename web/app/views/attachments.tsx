// The files of a message being written: the "Attach files" control that the reply form and the
// new-message form show, and what they send. Each file is uploaded as soon as it is picked.
import type { JSX } from 'preact';
import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { explain } from '../errors';
import { useSigned } from '../session';
import { UploadChip, type PickedFile } from './attachments/upload-chip';
import './attachments/attachments.css';

export { AttachmentList } from './attachments/attachment-list';

/** The files picked for one message: the picker to show, and what the form needs to send them. */
interface PickedFiles {
  /** The "Attach files" control with a chip per file (progress, thumbnail, Remove, the server's refusal). */
  picker: JSX.Element;
  /** The uploaded files' ids, in the order picked, to send as attachmentIds. */
  ids: string[];
  /** True while a file is still uploading: the form waits before it sends. */
  uploading: boolean;
  /** Forgets the files, after a send. */
  clear(): void;
}

/** What the server takes (it decides by the contents; this only narrows the browser's file dialog). */
const ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf';
/** Files one message may carry, as the server's MAX_ATTACHMENTS_PER_MESSAGE. */
const MAX_FILES = 5;

let nextKey = 0;

/** The server's refusals say what is wrong with the file and what to attach instead; only a failure of its own is worded here. */
const refusal = (failure: ApiError) => (failure.code === 'INTERNAL_SERVER_ERROR' ? explain(failure) : failure.message);

export function useAttachments(): PickedFiles {
  const { upload } = useSigned();
  const inputId = useId();
  const [items, setItems] = useState<PickedFile[]>([]);
  const [notice, setNotice] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const removeButtons = useRef(new Map<number, HTMLButtonElement>());
  // For clear(), called after an await with an older render's closure, and for leaving the page.
  const current = useRef(items);
  current.current = items;
  useEffect(() => () => current.current.forEach((item) => item.upload?.abort()), []);

  const change = (key: number, changes: Partial<PickedFile>) =>
    // Removed (or cleared) meanwhile: nothing to change.
    setItems((all) => all.map((item) => (item.key === key ? { ...item, ...changes } : item)));

  function start(file: File): PickedFile {
    const key = nextKey++;
    const started = upload(file, (sent, total) => change(key, { sent, total: Math.max(total, 1) }));
    started.done.then(
      (attachment) => change(key, { upload: null, attachment }),
      (failure: ApiError) => change(key, { upload: null, error: refusal(failure) }),
    );
    return { key, file, upload: started, sent: 0, total: Math.max(file.size, 1), attachment: null, error: '' };
  }

  function choose(event: JSX.TargetedEvent<HTMLInputElement>) {
    const files = [...(event.currentTarget.files ?? [])];
    // So that a file removed can be picked again.
    event.currentTarget.value = '';
    const room = Math.max(MAX_FILES - items.filter((item) => !item.error).length, 0);
    const over = files.slice(room);
    setNotice(over.length ? `A message can carry at most ${MAX_FILES} files. Not attached: ${over.map((file) => file.name).join(', ')}.` : '');
    const started = files.slice(0, room).map(start);
    // As a function of the latest list: an upload may have changed it since this render.
    setItems((all) => [...all, ...started]);
  }

  /** Takes a file off the list, stopping its upload; the keyboard focus moves to the next file's Remove, else the control. */
  function remove(removed: PickedFile) {
    removed.upload?.abort();
    const index = items.indexOf(removed);
    const rest = items.filter((item) => item !== removed);
    const next = rest[Math.min(index, rest.length - 1)];
    (next ? removeButtons.current.get(next.key) : input.current)?.focus();
    setItems((all) => all.filter((item) => item.key !== removed.key));
    setNotice('');
  }

  function clear() {
    current.current.forEach((item) => item.upload?.abort());
    setItems([]);
    setNotice('');
  }

  const picker = (
    <div class="attach">
      {/* The input itself takes the keyboard (Space or Enter opens the dialog); its label is what shows. */}
      <input id={inputId} ref={input} type="file" class="file-input" multiple accept={ACCEPT} onChange={choose} />
      <label for={inputId} class="attach-button">
        Attach files
      </label>
      <span class="hint">Photos (JPEG, PNG, WebP) or PDFs, up to {MAX_FILES}</span>
      <p class="error" role="alert">
        {notice}
      </p>
      <ul class="uploads" aria-label="Attached files">
        {items.map((item) => (
          <UploadChip
            key={item.key}
            item={item}
            remove={() => remove(item)}
            removeRef={(button) => {
              if (button) removeButtons.current.set(item.key, button);
              else removeButtons.current.delete(item.key);
            }}
          />
        ))}
      </ul>
    </div>
  );
  // Kept while the same files are stored, progress aside, so that a form may depend on it.
  const joined = items.flatMap((item) => (item.attachment ? [item.attachment.id] : [])).join(' ');
  const ids = useMemo(() => (joined ? joined.split(' ') : []), [joined]);
  return { picker, ids, uploading: items.some((item) => item.upload !== null), clear };
}
