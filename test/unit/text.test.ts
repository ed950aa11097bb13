import { optionalText, requireName, requireText } from '../../src/common/text';
import { badInput } from './support/bad-input';

test('requireText: the text trimmed; blank or too long is BAD_USER_INPUT naming the field', () => {
  expect(requireText('subject', '  Knee pain \n', 10)).toBe('Knee pain');
  expect(requireText('subject', 'x'.repeat(10), 10)).toBe('x'.repeat(10));
  expect(requireText('subject', ` ${'x'.repeat(10)} `, 10)).toBe('x'.repeat(10));
  expect(badInput(() => requireText('subject', '', 10))).toBe('subject must not be blank');
  expect(badInput(() => requireText('subject', ' \t\n ', 10))).toBe('subject must not be blank');
  expect(badInput(() => requireText('body', 'x'.repeat(11), 10))).toBe('body must be at most 10 characters');
});

test('optionalText: absent or blank is null; otherwise trimmed, and too long is BAD_USER_INPUT', () => {
  expect(optionalText('reason', undefined, 10)).toBeNull();
  expect(optionalText('reason', null, 10)).toBeNull();
  expect(optionalText('reason', '   ', 10)).toBeNull();
  expect(optionalText('reason', ' Leave ', 10)).toBe('Leave');
  expect(badInput(() => optionalText('reason', 'x'.repeat(11), 10))).toBe('reason must be at most 10 characters');
});

test('requireName: stored in NFC and trimmed; a name that shows nothing, or holds a bidirectional override or isolate, is BAD_USER_INPUT', () => {
  expect(requireName('name', ' Jose\u0301 ')).toBe('Jos\u00e9');
  expect(requireName('name', 'Zoë \u200dKim')).toBe('Zoë \u200dKim');
  expect(requireName('name', 'ناصر \u200fKim')).toBe('ناصر \u200fKim');
  for (const invisible of ['\u200b', '\u200b\u200c\u200d', '\ufeff\u2060', '\u3164', '\u2800\u2800', '\u0301', '\u00ad']) {
    expect(badInput(() => requireName('name', invisible))).toBe('name must hold a visible character');
  }
  for (const bidi of ['Dr \u202eenoD', 'Ana\u202d', '\u2066Ana\u2069', 'Ana\u202a']) {
    expect(badInput(() => requireName('name', bidi))).toMatch(/^name must not hold bidirectional override or isolate characters/);
  }
  expect(badInput(() => requireName('name', ' '))).toBe('name must not be blank');
  expect(badInput(() => requireName('name', 'x'.repeat(201)))).toBe('name must be at most 200 characters');
});
