import type { AttachmentFieldsFragment } from '../../../gql/graphql';

/**
 * An image's thumbnail (a data: URL, which the page's CSP allows), or a file
 * label for a PDF. The image's width and height, scaled into a `box` px square
 * as the server's thumbnails are, are set before it loads: nothing shifts.
 */
export function Preview({ attachment, alt, box }: { attachment: AttachmentFieldsFragment; alt: string; box: number }) {
  const { thumbnail, width, height } = attachment;
  if (!thumbnail) return <FileIcon contentType={attachment.contentType} />;
  if (!width || !height) return <img class="thumbnail" src={thumbnail} alt={alt} />;
  const scale = Math.min(1, box / Math.max(width, height));
  const scaled = (pixels: number) => Math.max(1, Math.round(pixels * scale));
  return <img class="thumbnail" src={thumbnail} alt={alt} width={scaled(width)} height={scaled(height)} />;
}

/** What a file is, for a file without a thumbnail: the name beside it says which. */
export function FileIcon({ contentType }: { contentType: string }) {
  const label = contentType === 'application/pdf' ? 'PDF' : contentType.startsWith('image/') ? 'Image' : 'File';
  return (
    <span class="file-icon" aria-hidden="true">
      {label}
    </span>
  );
}
