import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

/** A signing key of the test provider; `published` keys are in its JWKS. */
export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
  jwk: JWK;
}

/**
 * An OpenID Connect issuer on an ephemeral port of 127.0.0.1, as far as a
 * resource server sees one: its discovery document and its JWKS, and tokens
 * signed with its keys. `down` makes both answer 503.
 */
export class TestIdentityProvider {
  /** Keys in the JWKS, in order. */
  published: SigningKey[] = [];
  down = false;
  /** Requests for the discovery document and for the JWKS. */
  readonly requests = { discovery: 0, jwks: 0 };

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(): Promise<TestIdentityProvider> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = new TestIdentityProvider(server, issuer);
    server.on('request', (request, response) => {
      const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.url === '/.well-known/openid-configuration') provider.requests.discovery++;
      if (request.url === '/jwks') provider.requests.jwks++;
      if (provider.down) return json(503, { error: 'unavailable' });
      if (request.url === '/.well-known/openid-configuration') return json(200, { issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] });
      if (request.url === '/jwks') return json(200, { keys: provider.published.map((k) => k.jwk) });
      json(404, { error: 'not found' });
    });
    return provider;
  }

  /** A new key pair (not published unless `publish`); its JWK has a kid and no alg, as many providers publish them. */
  async key(alg = 'RS256', { publish = true } = {}): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${randomBytes(4).toString('hex')}`;
    const key = { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
    if (publish) this.published.push(key);
    return key;
  }

  /**
   * A token as the provider would issue it: `iss` this issuer, `iat` now, `exp`
   * in ten minutes, signed with `key` (default the first published key) and its
   * kid. `claims` adds to or overrides those; undefined removes one.
   */
  token(claims: JWTPayload & Record<string, unknown>, options: { key?: SigningKey; alg?: string; kid?: string } = {}): Promise<string> {
    const key = options.key ?? this.published[0];
    const now = Math.floor(Date.now() / 1000);
    const payload = Object.fromEntries(Object.entries({ iss: this.issuer, iat: now, exp: now + 600, ...claims }).filter(([, v]) => v !== undefined));
    return new SignJWT(payload)
      .setProtectedHeader({ alg: options.alg ?? key.alg, kid: options.kid ?? key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}
