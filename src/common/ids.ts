import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

const ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string shaped like the ids this server makes; anything else names nothing it stores. */
export const isId = (value: unknown): value is string => typeof value === 'string' && ID_SHAPE.test(value);

/**
 * The id of an object named by others' ids (a participant by its thread and user):
 * the same parts give the same id, in every query and live payload, so that a
 * client's normalized cache merges them; opaque (base64url of "type:parts").
 */
export const derivedId = (type: string, ...parts: string[]): string => Buffer.from([type, ...parts].join(':')).toString('base64url');
