import { optionalText, requireText } from '../../src/common/text';
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
