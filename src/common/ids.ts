import { randomUUID } from 'node:crypto';
import { isUUID } from 'class-validator';

export const newId = (): string => randomUUID();

/** True for ids this server could have issued; anything else cannot match a row. */
export const isId = (value: string): boolean => isUUID(value);
