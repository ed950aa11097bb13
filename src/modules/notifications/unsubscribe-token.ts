import { jwtVerify, SignJWT } from 'jose';
import { TOKEN_ISSUER } from '../auth/token.service';

/** Where the link points, on the server's origin (unsubscribe-route.ts serves it). */
export const UNSUBSCRIBE_PATH = '/notifications/unsubscribe';

/** Not the API's audience: an unsubscribe token is never a bearer token, nor the reverse. */
const AUDIENCE = 'carethread-unsubscribe';

/**
 * The unsubscribe link of every notification e-mail (RFC 8058): its token
 * turns that account's e-mail notifications off without a sign-in. Signed
 * with the server's JWT secret; it does not expire, as the e-mails it is in
 * stay in mailboxes.
 */
export async function unsubscribeLink(secret: Uint8Array, origin: string, userId: string): Promise<string> {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuer(TOKEN_ISSUER).setAudience(AUDIENCE).sign(secret);
  return `${origin}${UNSUBSCRIBE_PATH}?token=${token}`;
}

/** The account a token names; null for anything not signed by this server as an unsubscribe token. */
export async function unsubscribingUser(secret: Uint8Array, token: string): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, secret, { issuer: TOKEN_ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    return payload.sub ?? null;
  } catch {
    return null;
  }
}
