import { SignJWT, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { unauthenticated } from '../../errors';

/** The `iss` of the tokens `login` hands out; BearerIdentities tells them from an identity provider's by it. */
export const TOKEN_ISSUER = 'carethread';
const AUDIENCE = 'carethread-api';

/** What a token `login` hands out names: the user, the session (session.entity.ts), and when it expires. */
export interface TokenClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

/** Tokens whose signature was checked, kept with their claims: about 2 MB at most. */
const VERIFIED_TOKENS = 10_000;

/** Signs and checks the access tokens that `login` hands out (HS256 JWTs naming their session in `sid`). */
export class TokenService {
  /**
   * A signed-in client sends the same token with every request: its HMAC is
   * checked the first time, and the same string is taken at its word until it
   * expires. Only the signature's check is kept: whether the session still
   * exists is read on every request (UserService.byToken).
   */
  private readonly verified = new LRUCache<string, TokenClaims>({ max: VERIFIED_TOKENS });

  constructor(
    private readonly secret: Uint8Array,
    private readonly ttlSeconds: number,
  ) {}

  /** When a token issued now expires, to the second as JWTs count. */
  expiryFromNow(): Date {
    return new Date((Math.floor(Date.now() / 1000) + this.ttlSeconds) * 1000);
  }

  /** A token for a session that expires at `expiresAt` (from expiryFromNow): issued the second that was read, so it lives exactly the TTL. */
  issue({ userId, sessionId, expiresAt }: TokenClaims): Promise<string> {
    const expires = Math.floor(expiresAt.getTime() / 1000);
    return new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(expires - this.ttlSeconds)
      .setExpirationTime(expires)
      .sign(this.secret);
  }

  /**
   * The claims of a well-signed, unexpired token; UNAUTHENTICATED for a malformed, tampered or expired
   * one, or one naming no session (issued before sessions existed). Whether the session still exists is the caller's check.
   */
  async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known && known.expiresAt.getTime() > Date.now()) return known;
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: TOKEN_ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      if (!payload.sub || !payload.exp || typeof payload.sid !== 'string') throw new Error('token without subject, expiry or session');
      const claims = { userId: payload.sub, sessionId: payload.sid, expiresAt: new Date(payload.exp * 1000) };
      this.verified.set(token, claims);
      return claims;
    } catch {
      throw unauthenticated('Invalid or expired token');
    }
  }

  /** Reads `Bearer <token>`; null when there is no header at all. */
  static bearer(header: unknown): string | null {
    if (header === undefined || header === null || header === '') return null;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    if (!match) throw unauthenticated('Authorization must be "Bearer <token>"');
    return match[1];
  }
}
