import { ApiError, explain, type Upload } from './api';
import { preview } from './attachment-list';
import { formatSize, h } from './dom';
import type { Attachment } from './operations';

/** Starts uploading a file, reporting the bytes sent. */
export type Uploader = (file: File, progress: (sent: number, total: number) => void) => Upload;

/** What the server takes (it decides by the contents; this only narrows the browser's file dialog). */
const ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf';
/** Files one message may carry, as the server's MAX_ATTACHMENTS_PER_MESSAGE. */
export const MAX_FILES = 5;

interface Item {
  element: HTMLLIElement;
  remove: HTMLButtonElement;
  /** While its bytes are being sent or checked; null once answered. */
  upload: Upload | null;
  /** Once stored: what is sent with the message. */
  attachment: Attachment | null;
}

/**
 * The "Attach files" control of a message form. Each chosen file is uploaded
 * at once, with a progress bar, then listed with its preview, name, size and a
 * Remove button; a refused one shows the server's reason beside it, and is
 * neither sent nor counted. `changed` is called whenever `ids` or `busy` may
 * have changed.
 */
export class AttachmentPicker {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly list = h('ul', { class: 'uploads', 'aria-label': 'Attached files' });
  private readonly notice = h('p', { class: 'error', role: 'alert' });
  private items: Item[] = [];

  constructor(
    id: string,
    private readonly uploader: Uploader,
    private readonly changed: () => void,
  ) {
    // The input itself takes the keyboard (Space or Enter opens the dialog); its label is what shows.
    this.input = h('input', { id, type: 'file', class: 'file-input', multiple: true, accept: ACCEPT });
    this.input.addEventListener('change', () => this.choose([...(this.input.files ?? [])]));
    this.element = h(
      'div',
      { class: 'attach' },
      this.input,
      h('label', { for: id, class: 'attach-button' }, 'Attach files'),
      h('span', { class: 'hint' }, `Photos (JPEG, PNG, WebP) or PDFs, up to ${MAX_FILES}`),
      this.notice,
      this.list,
    );
  }

  /** The stored files' ids, in the order chosen. */
  get ids(): string[] {
    return this.items.flatMap((item) => (item.attachment ? [item.attachment.id] : []));
  }

  /** True while a file is still uploading: the message must wait for it. */
  get busy(): boolean {
    return this.items.some((item) => item.upload !== null);
  }

  /** Empties the list once the message went; uploads still under way are stopped. */
  clear(): void {
    this.items.forEach((item) => item.upload?.abort());
    this.items = [];
    this.list.replaceChildren();
    this.notice.textContent = '';
    this.changed();
  }

  private choose(files: File[]): void {
    // So that a file removed can be chosen again.
    this.input.value = '';
    const room = MAX_FILES - this.items.filter((item) => item.upload || item.attachment).length;
    const over = files.slice(Math.max(room, 0));
    this.notice.textContent = over.length ? `A message can carry at most ${MAX_FILES} files. Not attached: ${over.map((file) => file.name).join(', ')}.` : '';
    files.slice(0, Math.max(room, 0)).forEach((file) => this.start(file));
    this.changed();
  }

  private start(file: File): void {
    const progress = h('progress', { max: String(Math.max(file.size, 1)), value: '0', 'aria-label': `Uploading ${file.name}` });
    const name = h('span', { class: 'name' }, file.name);
    const size = h('span', { class: 'size' }, formatSize(file.size));
    // What the browser guesses from the name, until the server says what the contents are.
    const icon = h('span', { class: 'file-icon', 'aria-hidden': 'true' }, file.type === 'application/pdf' ? 'PDF' : file.type.startsWith('image/') ? 'Image' : 'File');
    const error = h('p', { class: 'error', role: 'alert' });
    const remove = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove ${file.name}` }, 'Remove');
    const element = h('li', { class: 'upload' }, icon, h('span', { class: 'file' }, name, size, progress), remove, error);
    const upload = this.uploader(file, (sent, total) => {
      progress.max = Math.max(total, 1);
      progress.value = sent;
    });
    const item: Item = { element, remove, upload, attachment: null };
    remove.addEventListener('click', () => this.remove(item));
    this.items.push(item);
    this.list.append(element);
    upload.done
      .then(
        (attachment) => {
          item.attachment = attachment;
          icon.replaceWith(preview(attachment, '', 48));
          name.textContent = attachment.name;
          size.textContent = formatSize(attachment.size);
        },
        (failure: unknown) => {
          element.classList.add('refused');
          // The server's refusals say what is wrong with the file and what to attach instead.
          error.textContent = failure instanceof ApiError && failure.code !== 'INTERNAL_SERVER_ERROR' ? failure.message : explain(failure);
        },
      )
      .finally(() => {
        item.upload = null;
        progress.remove();
        // Removed (or cleared) meanwhile: its list no longer holds it.
        if (this.items.includes(item)) this.changed();
      });
  }

  /** Takes a file off the list, stopping its upload; the keyboard focus moves to the next file's Remove, else the control. */
  private remove(item: Item): void {
    item.upload?.abort();
    const index = this.items.indexOf(item);
    this.items = this.items.filter((other) => other !== item);
    item.element.remove();
    this.notice.textContent = '';
    (this.items[Math.min(index, this.items.length - 1)]?.remove ?? this.input).focus();
    this.changed();
  }
}
