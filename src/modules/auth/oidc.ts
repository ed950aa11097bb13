import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { isProviderUrl, type OidcConfig } from '../../config';
import { unauthenticated } from '../../errors';

/** What a verified token of the identity provider says about its holder. */
export interface OidcIdentity {
  subject: string;
  /** The `email` claim, as the provider sent it; null without one. */
  email: string | null;
  /** Only `email_verified: true` counts: a provider that does not vouch for the address cannot claim an account by it. */
  emailVerified: boolean;
  expiresAt: Date;
}

/** The identity provider could not be asked for its keys: the server's problem, not the token's. */
export class IdentityProviderUnavailable extends Error {}

/** How far the provider's clock and ours may disagree on `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** How long a request waits for the discovery document or the keys before it fails. */
const FETCH_TIMEOUT_MS = 5_000;

/**
 * Verifies the JWTs of one OpenID Connect issuer against its published keys
 * (JWKS, through jose): signature, `iss`, `aud`, an allowed algorithm, `exp`
 * required, `nbf`, with CLOCK_TOLERANCE_SECONDS of slack. The keys' address is
 * discovered on the first token, not at start, and jose fetches the keys again
 * when a token names a key it has not seen (the provider rotated its keys).
 */
export class OidcVerifier {
  private keys: Promise<JWTVerifyGetKey> | null = null;

  constructor(private readonly config: OidcConfig) {}

  get issuer(): string {
    return this.config.issuer;
  }

  /**
   * UNAUTHENTICATED "Invalid or expired token" for any fault of the token;
   * IdentityProviderUnavailable when the provider's keys cannot be read (tried
   * again on the next token).
   */
  async verify(token: string): Promise<OidcIdentity> {
    const keys = await this.signingKeys();
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: this.config.algorithms,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      if (error instanceof IdentityProviderUnavailable) throw error;
      throw unauthenticated('Invalid or expired token');
    }
    return {
      subject: payload.sub!,
      email: typeof payload.email === 'string' ? payload.email : null,
      emailVerified: payload.email_verified === true,
      expiresAt: new Date(payload.exp! * 1000),
    };
  }

  /** One discovery at a time; a failed one is forgotten so that the next token tries again. */
  private signingKeys(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.discover().catch((error: unknown) => {
      this.keys = null;
      throw error;
    });
    return this.keys;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const uri = this.config.jwksUri ?? (await this.discoveredJwksUri());
    const remote = createRemoteJWKSet(new URL(uri), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: this.config.jwksCooldownSeconds * 1000 });
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        // No key for the token's kid and algorithm, even after a fresh fetch: the token's fault.
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) throw error;
        throw new IdentityProviderUnavailable(`could not read the keys at ${uri}`, { cause: error });
      }
    };
  }

  /** `jwks_uri` of the issuer's discovery document, which must name the same issuer (OpenID Connect Discovery 1.0, 4.3). */
  private async discoveredJwksUri(): Promise<string> {
    const address = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(address, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new IdentityProviderUnavailable(`could not read ${address}`, { cause: error });
    }
    if (document.issuer !== this.config.issuer) throw new IdentityProviderUnavailable(`${address} names another issuer (${JSON.stringify(document.issuer)})`);
    if (typeof document.jwks_uri !== 'string' || !isProviderUrl(document.jwks_uri)) {
      throw new IdentityProviderUnavailable(`${address} has no usable jwks_uri (https://, or http:// on localhost)`);
    }
    return document.jwks_uri;
  }
}
