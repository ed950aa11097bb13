import { X509Certificate } from 'node:crypto';
import { generateVAPIDKeys, sendNotification, WebPushError, type RequestOptions } from 'web-push';
import { startPushEndpoint, type PushEndpoint, type PushSubscriptionJson } from './support/push-endpoint';

describe('push endpoint (test Web Push service)', () => {
  let push: PushEndpoint;
  beforeEach(async () => {
    push = await startPushEndpoint();
  });
  afterEach(() => push.close());

  const payload = JSON.stringify({ type: 'message', conversationId: 'c-42', title: 'New message', body: 'Open CareThread to read it' });
  const vapid = generateVAPIDKeys();
  const vapidDetails = { subject: 'mailto:ops@example.org', publicKey: vapid.publicKey, privateKey: vapid.privateKey };
  /** As a CareThread server would send it, through an agent that trusts the endpoint's certificate. */
  const send = (subscription: PushSubscriptionJson, options: RequestOptions = { vapidDetails, TTL: 60 }) =>
    sendNotification(subscription, payload, { ...options, agent: push.agent });

  /** The rejection of a push, as web-push reports it. */
  async function refusal(sending: Promise<unknown>): Promise<WebPushError> {
    const error: unknown = await sending.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(WebPushError);
    return error as WebPushError;
  }

  it('decrypts a payload sent by web-push with VAPID', async () => {
    const subscription = push.subscribe({ applicationServerKey: vapid.publicKey });
    expect(subscription.endpoint).toMatch(new RegExp(`^${push.origin}/push/[\\w-]+$`));
    expect(Buffer.from(subscription.keys.p256dh, 'base64url')).toHaveLength(65);
    expect(Buffer.from(subscription.keys.auth, 'base64url')).toHaveLength(16);

    const result = await send(subscription, { vapidDetails, TTL: 60, urgency: 'high' });

    expect(result.statusCode).toBe(201);
    const [received] = await push.waitFor(1);
    expect(received.endpoint).toBe(subscription.endpoint);
    expect(received.payload).toBe(payload);
    expect(received.headers.authorization).toMatch(new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${vapid.publicKey}$`));
    expect(received.headers.ttl).toBe('60');
    expect(received.headers.urgency).toBe('high');
  });

  it('answers 410 Gone for an expired subscription, and 503 in an outage, recording nothing', async () => {
    const expired = push.subscribe();
    const live = push.subscribe();
    push.answer(410, expired.endpoint);

    expect((await refusal(send(expired))).statusCode).toBe(410);
    await send(live);
    expect(push.received.map((r) => r.endpoint)).toEqual([live.endpoint]);

    push.answer(503);
    expect((await refusal(send(live))).statusCode).toBe(503);
    expect(push.received).toHaveLength(1);
  });

  it('refuses a push without VAPID authorization, or signed with another key', async () => {
    const subscription = push.subscribe({ applicationServerKey: vapid.publicKey });

    const anonymous = await refusal(send(subscription, { TTL: 60 }));
    expect([anonymous.statusCode, anonymous.body]).toEqual([401, expect.stringContaining('vapid t=<jwt>, k=<public key>')]);

    // `k` is not the key that signed the token.
    const other = generateVAPIDKeys();
    const forged = await refusal(send(subscription, { TTL: 60, vapidDetails: { ...vapidDetails, publicKey: other.publicKey } }));
    expect([forged.statusCode, forged.body]).toEqual([403, expect.stringContaining('signature verification failed')]);

    // A valid token, but from another application server than the subscription's.
    const stranger = await refusal(send(subscription, { TTL: 60, vapidDetails: { ...vapidDetails, ...other } }));
    expect([stranger.statusCode, stranger.body]).toEqual([403, expect.stringContaining('not the one the subscription was made with')]);

    expect(push.received).toHaveLength(0);
  });

  it('answers 404 for an unknown endpoint', async () => {
    const { keys } = push.subscribe();
    expect((await refusal(send({ endpoint: `${push.origin}/push/unknown`, keys }))).statusCode).toBe(404);
  });

  it('serves a certificate for 127.0.0.1 that only its own agent trusts', async () => {
    const certificate = new X509Certificate(push.ca);
    expect(certificate.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(certificate.checkIssued(certificate)).toBe(true);
    await expect(sendNotification(push.subscribe(), payload, { vapidDetails, TTL: 60 })).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('waitFor rejects with a clear message after its timeout', async () => {
    await expect(push.waitFor(1, 100)).rejects.toThrow('expected 1 push(es) within 100 ms, got 0');
  });
});
