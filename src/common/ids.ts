import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

const ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string shaped like the ids this server makes; anything else names nothing it stores. */
export const isId = (value: unknown): value is string => typeof value === 'string' && ID_SHAPE.test(value);
