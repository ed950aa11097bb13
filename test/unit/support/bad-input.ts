import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../../src/errors';

/** The message of the BAD_USER_INPUT error `run` throws; fails the test if it throws anything else or nothing. */
export function badInput(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe(ErrorCode.BadUserInput);
    return (error as GraphQLError).message;
  }
  throw new Error('expected BAD_USER_INPUT, but nothing was thrown');
}
