import { jwtVerify, SignJWT } from 'jose';
import { TOKEN_ISSUER } from '../auth/token.service';

/** Where attachments are uploaded (POST) and downloaded (GET /attachments/<id>), on the API's origin. */
export const ATTACHMENTS_PATH = '/attachments';

/** Not the API's audience: a link's token is never a bearer token, nor the reverse. */
const AUDIENCE = 'carethread-attachment';
const LINK_TTL_SECONDS = 5 * 60;

/**
 * A download link for a browser, which cannot send a bearer token with a plain
 * link or an image: it names the attachment and who may use it, in which
 * session, for 5 minutes. It grants nothing by itself: the download checks
 * that the session is still open and that person's access, again.
 */
export async function attachmentLink(secret: Uint8Array, origin: string, who: LinkHolder, attachmentId: string, now: Date): Promise<{ url: string; expiresAt: Date }> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + LINK_TTL_SECONDS) * 1000);
  const token = await new SignJWT({ att: attachmentId, sid: who.sessionId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(who.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(secret);
  return { url: `${origin}${ATTACHMENTS_PATH}/${attachmentId}?token=${token}`, expiresAt };
}

export interface LinkHolder {
  userId: string;
  /** Their sign-in session; null for an identity provider's token (no session of ours). */
  sessionId: string | null;
}

/** Who a link's token lets download `attachmentId` at `now`; null for a token this server did not sign for it, or expired. */
export async function linkHolder(secret: Uint8Array, token: string, attachmentId: string, now: Date): Promise<LinkHolder | null> {
  try {
    const { payload } = await jwtVerify(token, secret, { issuer: TOKEN_ISSUER, audience: AUDIENCE, algorithms: ['HS256'], currentDate: now });
    if (payload.att !== attachmentId || !payload.sub) return null;
    return { userId: payload.sub, sessionId: typeof payload.sid === 'string' ? payload.sid : null };
  } catch {
    return null;
  }
}
