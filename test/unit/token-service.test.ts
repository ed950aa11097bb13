import { TokenService } from '../../src/modules/auth/token.service';

// A verified token is kept with its claims (the HMAC is checked once per token, not per request);
// what is kept must never outlive the token, nor let another string through.

const tokens = new TokenService(new TextEncoder().encode('unit-secret-unit-secret-unit-secret-0123'), 60);
const claims = () => ({ userId: 'user-1', sessionId: 'session-1', expiresAt: tokens.expiryFromNow() });

afterEach(() => jest.useRealTimers());

test('a token checked once is refused after it expires, as one never checked is', async () => {
  jest.useFakeTimers({ now: new Date('2026-12-07T10:00:00.000Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const token = await tokens.issue(claims());
  await expect(tokens.verify(token)).resolves.toMatchObject({ userId: 'user-1', sessionId: 'session-1' });
  jest.setSystemTime(new Date('2026-12-07T10:00:59.999Z'));
  await expect(tokens.verify(token)).resolves.toMatchObject({ userId: 'user-1' });
  jest.setSystemTime(new Date('2026-12-07T10:01:00.000Z'));
  await expect(tokens.verify(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
});

test('a checked token changed by one character is checked again and refused', async () => {
  const token = await tokens.issue(claims());
  await tokens.verify(token);
  // Not the last character: its low bits are base64url padding, which decoders ignore.
  const at = token.length - 10;
  const changed = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
  await expect(tokens.verify(changed)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
});
