import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Metrics } from './metrics';
import { describeOperation } from './operation-labels';

/**
 * Counts each GraphQL request over HTTP and the errors it answers with, once
 * the response is final: parse and validation failures included (their
 * document, if any, is what Apollo parsed). Requests refused before GraphQL
 * runs (a malformed body, CSRF, a context that failed) are not counted.
 */
export function requestMetricsPlugin(schema: GraphQLSchema, metrics: Metrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ document, request, response }) {
          const operation = describeOperation(schema, document, request.operationName);
          metrics.requested('http', operation);
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          if (errors) metrics.failed('http', operation, errors);
        },
      };
    },
  };
}
