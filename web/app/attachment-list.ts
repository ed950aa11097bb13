import { ApiError, explain } from './api';
import { formatSize, h } from './dom';
import type { Attachment } from './operations';

/** Asks the server for a download link of an attachment: valid minutes only, so asked for at each click. */
export type DownloadLink = (attachmentId: string) => Promise<string>;

/**
 * An image's thumbnail (a data: URL, which the page's CSP allows), or a file
 * label for a PDF. The image's width and height, scaled into a `box` px square
 * as the server's thumbnails are, are set before it loads: nothing shifts.
 */
export function preview(attachment: Attachment, alt: string, box: number): HTMLElement {
  const { thumbnail, width, height } = attachment;
  if (!thumbnail) return h('span', { class: 'file-icon', 'aria-hidden': 'true' }, attachment.contentType === 'application/pdf' ? 'PDF' : 'File');
  const scale = width && height ? Math.min(1, box / Math.max(width, height)) : 0;
  const size = (pixels: number) => String(Math.max(1, Math.round(pixels * scale)));
  return h('img', { class: 'thumbnail', src: thumbnail, alt, ...(width && height ? { width: size(width), height: size(height) } : {}) });
}

/** A message's files, in the order sent: each with its preview, name, size and a Download button. */
export function attachmentList(attachments: Attachment[], link: DownloadLink): HTMLElement {
  return h('ul', { class: 'attachments', 'aria-label': 'Attachments' }, ...attachments.map((attachment) => attachmentItem(attachment, link)));
}

function attachmentItem(attachment: Attachment, link: DownloadLink): HTMLElement {
  // The visible word first in the name, for speech input; the file's name tells the buttons apart.
  const button = h('button', { type: 'button', 'aria-label': `Download ${attachment.name}` }, 'Download');
  const error = h('span', { class: 'error', role: 'alert' });
  let pending = false;
  button.addEventListener('click', async () => {
    // Not disabled while it waits, which would drop the keyboard focus.
    if (pending) return;
    pending = true;
    error.textContent = '';
    try {
      // The download is an <a download> clicked: the page stays, and the server's
      // Content-Disposition makes it a file whatever the browser thinks of the type.
      const anchor = h('a', { href: await link(attachment.id), download: attachment.name, hidden: true });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.code === 'NOT_FOUND' ? 'This file is not available to you any more.' : explain(failure);
    } finally {
      pending = false;
    }
  });
  return h(
    'li',
    { class: 'attachment' },
    preview(attachment, attachment.name, 160),
    h('span', { class: 'file' }, h('span', { class: 'name' }, attachment.name), h('span', { class: 'size' }, formatSize(attachment.size))),
    button,
    error,
  );
}
