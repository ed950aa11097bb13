import { MAX_BODY_LENGTH, requireText } from '../../common/text';

/** A message's trimmed body: blank only when files go with it. */
export function messageBody(text: string, withAttachments: boolean): string {
  if (withAttachments && !text.trim()) return '';
  return requireText('body', text, MAX_BODY_LENGTH);
}
