import { createECDH, createPublicKey, generateKeyPairSync, randomBytes, sign, type ECDH, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';

// http_ece ships no type declarations; this is the one function used here.
const ece = require('http_ece') as {
  decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: Buffer }): Buffer;
};

/** As the browser's PushSubscription.toJSON(): keys in base64url. */
export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  endpoint: string;
  /** The decrypted payload, UTF-8. */
  payload: string;
  /** As received: authorization ('vapid t=..., k=...'), ttl, urgency, topic... */
  headers: IncomingHttpHeaders;
}

export interface PushEndpoint {
  /** This server's origin, https://127.0.0.1:PORT (the `aud` the VAPID JWT must carry). */
  origin: string;
  /** The server's self-signed certificate (PEM), made for this run: the CA to trust (e.g. NODE_EXTRA_CA_CERTS for a child process). */
  ca: string;
  /** An HTTPS agent that trusts `ca`: web-push's `agent` option. */
  agent: Agent;
  /**
   * A new subscription (fresh P-256 key pair and 16-byte auth secret) at `origin + '/push/<random id>'`.
   * With `applicationServerKey` (base64url VAPID public key), pushes signed with another key are refused 403,
   * as a browser's push service does for a subscription made with that key.
   */
  subscribe(options?: { applicationServerKey?: string }): PushSubscriptionJson;
  /** Accepted pushes, in order of arrival. */
  received: ReceivedPush[];
  /** Resolves with `received` once at least `count` pushes were accepted; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  /**
   * What a valid push is answered: 201 (default); 404 or 410 Gone for an expired subscription;
   * 429, 500 or 503 for an outage. Nothing is recorded unless it is 201. For one endpoint, or
   * without `endpoint` for all (which also clears the per-endpoint answers).
   */
  answer(status: number, endpoint?: string): void;
  close(): Promise<void>;
}

interface Subscription {
  ecdh: ECDH;
  auth: Buffer;
  applicationServerKey?: string;
}

/** RFC 8030 push services must accept at least this much; the major ones refuse more. */
const MAX_PAYLOAD = 4096;
/** RFC 8292: a VAPID token must not expire more than 24 hours ahead. */
const MAX_EXPIRY_SECONDS = 24 * 60 * 60;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An uncompressed P-256 point (as in VAPID `k`) as a public KeyObject. */
function p256PublicKey(base64url: string): KeyObject {
  const point = Buffer.from(base64url, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) throw new Refusal(401, 'k is not an uncompressed P-256 public key');
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33).toString('base64url');
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
  } catch {
    throw new Refusal(401, 'k is not a point of P-256');
  }
}

/** Checks the `vapid t=<jwt>, k=<key>` authorization (RFC 8292) and returns `k`. */
async function verifyVapid(authorization: string | undefined, origin: string): Promise<string> {
  const match = /^vapid\s+t=([\w-]+\.[\w-]+\.[\w-]+)\s*,\s*k=([\w-]+)$/i.exec(authorization ?? '');
  if (!match) throw new Refusal(401, 'Authorization must be "vapid t=<jwt>, k=<public key>"');
  const [, token, k] = match;
  const key = p256PublicKey(k);
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['ES256'], audience: origin, requiredClaims: ['exp'] });
    if (payload.exp! > Date.now() / 1000 + MAX_EXPIRY_SECONDS) throw new Error('exp is more than 24 hours ahead');
  } catch (error) {
    throw new Refusal(403, `Invalid VAPID token: ${error instanceof Error ? error.message : String(error)}`);
  }
  return k;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Minimal DER encoding, enough for one certificate. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}
const sequence = (...content: Buffer[]) => der(0x30, ...content);
const oid = (hex: string) => der(0x06, Buffer.from(hex, 'hex'));
const utcTime = (date: Date) => der(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));

/**
 * A self-signed P-256 certificate for IP 127.0.0.1, valid for a day. web-push only speaks HTTPS,
 * and node:crypto can sign but not issue certificates, hence the few lines of DER.
 */
function selfSignedCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaWithSha256 = sequence(oid('2a8648ce3d040302'));
  const name = sequence(der(0x31, sequence(oid('550403'), der(0x0c, Buffer.from('CareThread test push service')))));
  const now = Date.now();
  const extensions = [
    sequence(oid('551d13'), der(0x01, Buffer.from([0xff])), der(0x04, sequence(der(0x01, Buffer.from([0xff]))))), // basicConstraints: CA, critical
    sequence(oid('551d11'), der(0x04, sequence(der(0x87, Buffer.from([127, 0, 0, 1]))))), // subjectAltName: IP 127.0.0.1
  ];
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, Buffer.concat([Buffer.from([0x01]), randomBytes(8)])), // serial, positive
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 24 * 3600_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const pem = cert.toString('base64').replace(/.{1,64}/g, '$&\n');
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: `-----BEGIN CERTIFICATE-----\n${pem}-----END CERTIFICATE-----\n` };
}

/** A Web Push service stand-in (RFC 8030/8291/8292) over HTTPS on an ephemeral port of 127.0.0.1. */
export async function startPushEndpoint(): Promise<PushEndpoint> {
  const subscriptions = new Map<string, Subscription>();
  const answers = new Map<string, number>();
  let defaultAnswer = 201;
  const received: ReceivedPush[] = [];
  let origin = '';

  async function accept(request: IncomingMessage, subscription: Subscription, endpoint: string): Promise<number> {
    const body = await readBody(request);
    if (request.headers['content-encoding'] !== 'aes128gcm') throw new Refusal(400, 'Content-Encoding must be aes128gcm');
    const { ttl } = request.headers;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) throw new Refusal(400, 'A TTL header (seconds) is required');
    if (body.length > MAX_PAYLOAD) throw new Refusal(413, `The payload exceeds ${MAX_PAYLOAD} bytes`);
    const k = await verifyVapid(request.headers.authorization, origin);
    if (subscription.applicationServerKey && k !== subscription.applicationServerKey) {
      throw new Refusal(403, 'The VAPID key is not the one the subscription was made with');
    }
    let payload: string;
    try {
      payload = ece.decrypt(body, { version: 'aes128gcm', privateKey: subscription.ecdh, authSecret: subscription.auth }).toString('utf8');
    } catch (error) {
      throw new Refusal(400, `Cannot decrypt the payload: ${error instanceof Error ? error.message : String(error)}`);
    }
    const status = answers.get(endpoint) ?? defaultAnswer;
    if (status === 201) received.push({ endpoint, payload, headers: request.headers });
    return status;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const endpoint = `${origin}${request.url ?? ''}`;
    const subscription = subscriptions.get(endpoint);
    if (!subscription) return void response.writeHead(404).end('No such subscription');
    if (request.method !== 'POST') return void response.writeHead(405, { allow: 'POST' }).end();
    try {
      const status = await accept(request, subscription, endpoint);
      const headers = status === 201 ? { location: `${origin}/message/${randomBytes(8).toString('hex')}` } : {};
      response.writeHead(status, headers).end();
    } catch (error) {
      const status = error instanceof Refusal ? error.status : 500;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error));
    }
  }

  const { key, cert } = selfSignedCertificate();
  const server = createServer({ key, cert }, (request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert });

  return {
    origin,
    ca: cert,
    agent,
    subscribe(options = {}) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${origin}/push/${randomBytes(12).toString('base64url')}`;
      subscriptions.set(endpoint, { ecdh, auth, applicationServerKey: options.applicationServerKey });
      return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    received,
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`Push endpoint: expected ${count} push(es) within ${timeoutMs} ms, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received;
    },
    answer(status, endpoint) {
      if (endpoint === undefined) {
        defaultAnswer = status;
        answers.clear();
      } else {
        answers.set(endpoint, status);
      }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        agent.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
