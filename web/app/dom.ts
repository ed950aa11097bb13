/** What h() accepts as a child: strings become text nodes, never parsed as HTML. */
export type Child = Node | string | null | undefined | false;

/**
 * Creates an element with attributes and children. User data goes in only as
 * text nodes, so a message or a name holding markup shows as that markup.
 * `true` sets a boolean attribute; `false` leaves it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '');
    else if (value !== false) element.setAttribute(name, value);
  }
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  return element;
}

/** A short local date and time for a message. */
export const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });

/** A file's size for people: "830 bytes", "12 KB", "1.4 MB" (units of 1024, as the server's limits are given). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number(mib.toFixed(1))} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
