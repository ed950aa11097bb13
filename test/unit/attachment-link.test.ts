import { SignJWT } from 'jose';
import { attachmentLink, linkHolder } from '../../src/modules/attachments/attachment-link';
import { TOKEN_ISSUER } from '../../src/modules/auth/token.service';

// The download links of attachmentLink: for one person, session and attachment, five minutes.

const secret = new TextEncoder().encode('unit-secret-unit-secret-unit-secret-0123');
const who = { userId: 'u1', sessionId: 's1' };
const ID = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';
const issued = new Date('2026-12-07T10:00:00Z');
const later = (ms: number) => new Date(issued.getTime() + ms);
const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

test('a link names its holder and session for 5 minutes, then nobody', async () => {
  const link = await attachmentLink(secret, 'https://clinic.example', who, ID, issued);
  expect(link.url.startsWith(`https://clinic.example/attachments/${ID}?token=`)).toBe(true);
  expect(link.expiresAt).toEqual(later(5 * 60_000));
  expect(await linkHolder(secret, tokenOf(link.url), ID, later(4 * 60_000))).toEqual(who);
  expect(await linkHolder(secret, tokenOf(link.url), ID, later(5 * 60_000 + 1000))).toBeNull();
});

test('a link is for its attachment only, and only of this server’s secret', async () => {
  const token = tokenOf((await attachmentLink(secret, 'https://clinic.example', who, ID, issued)).url);
  expect(await linkHolder(secret, token, OTHER, issued)).toBeNull();
  expect(await linkHolder(new TextEncoder().encode('another-secret-another-secret-0123456'), token, ID, issued)).toBeNull();
  expect(await linkHolder(secret, `${token}x`, ID, issued)).toBeNull();
});

test('a token of this server for another audience (the API’s, an unsubscribe link’s) is no download link', async () => {
  for (const audience of ['carethread-api', 'carethread-unsubscribe']) {
    const token = await new SignJWT({ att: ID, sid: 's1' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setIssuer(TOKEN_ISSUER).setAudience(audience).setIssuedAt(issued).setExpirationTime(later(60_000)).sign(secret);
    expect(await linkHolder(secret, token, ID, issued)).toBeNull();
  }
});
