import { SignJWT, jwtVerify } from 'jose';
import { unauthenticated } from '../../errors';

/** The `iss` of the tokens `login` hands out; BearerIdentities tells them from an identity provider's by it. */
export const TOKEN_ISSUER = 'carethread';
const AUDIENCE = 'carethread-api';

/** Signs and checks the access tokens that `login` hands out (HS256 JWTs). */
export class TokenService {
  constructor(
    private readonly secret: Uint8Array,
    private readonly ttlSeconds: number,
  ) {}

  issue(userId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.secret);
  }

  /** The user id in a valid token; UNAUTHENTICATED for a malformed, tampered or expired one. */
  async verify(token: string): Promise<{ userId: string; expiresAt: Date }> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: TOKEN_ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      if (!payload.sub || !payload.exp) throw new Error('token without subject or expiry');
      return { userId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
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
