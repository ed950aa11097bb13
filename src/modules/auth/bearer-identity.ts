import { decodeJwt } from 'jose';
import { unauthenticated } from '../../errors';
import type { ExternalIdentities } from './external-identity';
import type { OidcVerifier } from './oidc';
import { TOKEN_ISSUER, type TokenService } from './token.service';

/** Whom a valid bearer token names, and until when it may be used (a live socket is closed then). */
export interface BearerIdentity {
  userId: string;
  /** The session a token of `login` names; null for an identity provider's token, which is the provider's to end. */
  sessionId: string | null;
  expiresAt: Date;
}

/** The identity provider's side: its verifier, and the accounts its identities map to. */
export interface ExternalSignIn {
  verifier: OidcVerifier;
  identities: ExternalIdentities;
}

/**
 * The one place that turns a bearer token into a user id, for HTTP requests
 * (UserService.byToken) and websocket connections alike. The token's
 * unverified `iss` only picks the check: CareThread's own tokens (from
 * `login`), or the configured OIDC issuer's; anything else, or a token that
 * fails its check, is UNAUTHENTICATED "Invalid or expired token", the same
 * words whatever was wrong. An identity-provider token also needs an account
 * it maps to (ExternalIdentities). IdentityProviderUnavailable (oidc.ts) when
 * the provider's keys cannot be read.
 */
export class BearerIdentities {
  constructor(
    private readonly tokens: TokenService,
    private readonly external: ExternalSignIn | null,
  ) {}

  async identify(token: string): Promise<BearerIdentity> {
    const issuer = unverifiedIssuer(token);
    if (issuer === TOKEN_ISSUER) return this.tokens.verify(token);
    if (this.external && issuer === this.external.verifier.issuer) {
      const identity = await this.external.verifier.verify(token);
      const user = await this.external.identities.account(issuer, identity);
      return { userId: user.id, sessionId: null, expiresAt: identity.expiresAt };
    }
    throw unauthenticated('Invalid or expired token');
  }
}

function unverifiedIssuer(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}
