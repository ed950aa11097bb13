import type { GraphQLFormattedError } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode, INTERNAL, RequestErrorCode } from '../errors';
import type { OperationLabels } from './operation-labels';

export const METRICS_PREFIX = 'carethread_';

export type Transport = 'http' | 'ws';
export type SendMutation = 'sendMessage' | 'createThread';

/** Every code an error sent to a client can carry; any other is counted as OTHER. */
const KNOWN_CODES = new Set<string>([...Object.values(ErrorCode), ...Object.values(RequestErrorCode), INTERNAL]);

/** From 1 ms (a send on an idle SQLite) to 10 s (a send that waited for locks). */
const SEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event loop and GC of the process, in a registry of its own
 * (never prom-client's global one), filled once: collectDefaultMetrics starts
 * observers that cannot be stopped, and these figures belong to the process
 * whichever of its servers is asked (tests run many in one process).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRICS_PREFIX });
  }
  return processRegistry;
}

/**
 * One server's Prometheus metrics, in a registry of its own. Labels hold only
 * names the server defines (operation types, schema fields, error codes),
 * never anything a client chose or anything about a patient or user.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: `${METRICS_PREFIX}graphql_requests_total`,
    help:
      'GraphQL operations received, by transport (http, ws), operation type and root field (its schema name, never an alias or the operation name). ' +
      'An operation with several root fields counts once for each distinct one; one that did not parse, or asks for no known field, counts under field="(unknown)".',
    labelNames: ['transport', 'type', 'field'] as const,
    registers: [this.registry],
  });

  private readonly errors = new Counter({
    name: `${METRICS_PREFIX}graphql_errors_total`,
    help:
      'Errors sent to clients, by transport, operation type, root field and extensions.code (codes outside the known set count as OTHER). ' +
      'An error at a field counts under its root field; one of the whole operation (parse, validation, variables) under each of its root fields.',
    labelNames: ['transport', 'type', 'field', 'code'] as const,
    registers: [this.registry],
  });

  private countSockets: () => number = () => 0;

  private readonly sockets: Gauge = new Gauge({
    name: `${METRICS_PREFIX}websockets_open`,
    help: 'Websockets open on /graphql right now, signed in or still connecting.',
    registers: [this.registry],
    collect: () => this.sockets.set(this.countSockets()),
  });

  private readonly subscriptions = new Gauge({
    name: `${METRICS_PREFIX}subscriptions_active`,
    help: 'Live graphql-ws subscriptions by field; one ends when the client completes it, its socket closes, or it fails.',
    labelNames: ['field'] as const,
    registers: [this.registry],
  });

  private readonly deliveries = new Counter({
    name: `${METRICS_PREFIX}subscription_deliveries_total`,
    help: 'Events sent to subscribers, by subscription field: one per subscriber and event.',
    labelNames: ['field'] as const,
    registers: [this.registry],
  });

  private readonly sendSeconds = new Histogram({
    name: `${METRICS_PREFIX}send_duration_seconds`,
    help: 'Time of a successful sendMessage or createThread, from its start to the commit and the publish of its live events.',
    labelNames: ['mutation'] as const,
    buckets: SEND_BUCKETS,
    registers: [this.registry],
  });

  private readonly passwordChecks = new Counter({
    name: `${METRICS_PREFIX}login_password_checks_total`,
    help: 'Passwords checked by login, by result (right, wrong: an unknown email counts as wrong). A sign-in refused by the login limits is not checked.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Counts an operation once for each of its root fields. */
  requested(transport: Transport, operation: OperationLabels): void {
    for (const field of operation.fields) this.requests.inc({ transport, type: operation.type, field });
  }

  /** Counts the errors of an operation as the client receives them (formatted, so with their codes). */
  failed(transport: Transport, operation: OperationLabels, errors: readonly GraphQLFormattedError[]): void {
    for (const error of errors) {
      const rawCode = error.extensions?.code;
      const code = typeof rawCode === 'string' && KNOWN_CODES.has(rawCode) ? rawCode : 'OTHER';
      const fields = error.path?.length ? [operation.fieldOf(error.path[0])] : operation.fields;
      for (const field of fields) this.errors.inc({ transport, type: operation.type, field, code });
    }
  }

  /** Where the open-websockets gauge reads its count (the websocket server, once it exists). */
  countWebsocketsWith(count: () => number): void {
    this.countSockets = count;
  }

  /** Counts live subscriptions of `field` starting (+1) or ending (-1). */
  countSubscriptions(field: string, change: number): void {
    this.subscriptions.inc({ field }, change);
  }

  /** Counts `sent` deliveries of one event to subscribers of `field`. */
  countDeliveries(field: string, sent: number): void {
    this.deliveries.inc({ field }, sent);
  }

  private readonly notifications = new Counter({
    name: `${METRICS_PREFIX}notifications_total`,
    help: 'Notifications sent, by channel (EMAIL; PUSH once per browser) and result: sent, retry (failed, tried again later), failed (refused for good), gone (a browser its push service no longer knows: removed).',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });

  /** Counts one send of a notification on `channel`. */
  countNotification(channel: 'EMAIL' | 'PUSH', result: 'sent' | 'retry' | 'failed' | 'gone'): void {
    this.notifications.inc({ channel, result });
  }

  /** Counts one password checked by login. */
  checkedPassword(right: boolean): void {
    this.passwordChecks.inc({ result: right ? 'right' : 'wrong' });
  }

  /** Runs a send and records how long it took, if it succeeded. */
  async timeSend<T>(mutation: SendMutation, send: () => Promise<T>): Promise<T> {
    const stop = this.sendSeconds.startTimer({ mutation });
    const result = await send();
    stop();
    return result;
  }

  /** This server's metrics and the process's, in Prometheus's text format. */
  async render(): Promise<{ contentType: string; text: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}
