import { createParameterDecorator } from 'type-graphql';
import { requireViewer, type Context } from '../../request-context';

/** Injects the signed-in user; the operation fails with UNAUTHENTICATED without one. */
export function Viewer() {
  return createParameterDecorator<Context>(({ context }) => requireViewer(context));
}
