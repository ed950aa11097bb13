import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The README and docs/ are read on a code host, from a clone with nothing beside it:
// every link that is not a web address must lead to a file of the repository, and a
// link to a heading (#anchor) to a heading that exists.
const root = resolve(__dirname, '..', '..');
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

const anchorsOf = (file: string) =>
  new Set([...readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm)].map(([, h]) => anchorOf(h)));

const links = pages.flatMap((page) =>
  [...readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => ({ page, target }))
    .filter(({ target }) => !/^[a-z]+:/i.test(target)),
);

test.each(links)('$page links to $target inside the repository', ({ page, target }) => {
  const [path, anchor] = target.split('#');
  const file = path ? resolve(dirname(join(root, page)), path) : join(root, page);
  expect(relative(root, file).startsWith('..')).toBe(false);
  expect(existsSync(file)).toBe(true);
  if (anchor) expect([...anchorsOf(file)]).toContain(anchor);
});
