import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, SETTING_NAMES } from '../../src/config';

const root = join(__dirname, '..', '..');
const envExample = readFileSync(join(root, '.env.example'), 'utf8');
const settingsPage = readFileSync(join(root, 'docs', 'settings.md'), 'utf8');

/** `NAME=value` lines, set or commented out. */
const exampleLines = [...envExample.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, commented, name, value]) => ({ name, value, set: !commented }));

describe('every setting is documented', () => {
  test('.env.example lists every setting the server reads, and nothing it does not', () => {
    expect([...new Set(exampleLines.map((l) => l.name))].sort()).toEqual([...SETTING_NAMES].sort());
  });

  test('the settings table of docs/settings.md has a row for every setting', () => {
    const missing = SETTING_NAMES.filter((name) => !new RegExp(`^\\|[^\\n]*\`${name}\``, 'm').test(settingsPage));
    expect(missing).toEqual([]);
  });

  test('the values .env.example sets are accepted as they stand', () => {
    const env = Object.fromEntries(exampleLines.filter((l) => l.set).map((l) => [l.name, l.value]));
    expect(() => loadConfig(env)).not.toThrow();
  });
});
