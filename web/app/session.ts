import { createContext } from 'preact';
import { useContext, useEffect } from 'preact/hooks';
import { useQuery, type UseQueryArgs } from '@urql/preact';
import type { AnyVariables } from '@urql/core';
import type { ViewerFragment } from '../gql/graphql';
import type { Upload } from './api';

export interface Session {
  token: string;
  user: ViewerFragment;
}

// sessionStorage rather than localStorage: the token goes when the tab closes, which
// matters on a shared clinic workstation.
const KEY = 'carethread.session';

export function loadSession(): Session | null {
  const stored = sessionStorage.getItem(KEY);
  if (!stored) return null;
  try {
    const session = JSON.parse(stored) as Session;
    // Saved by an earlier version of the page, without what this one shows: signed in again.
    if (Array.isArray(session.user?.teams)) return session;
  } catch {
    // Not JSON: forgotten below.
  }
  sessionStorage.removeItem(KEY);
  return null;
}

export const saveSession = (session: Session) => sessionStorage.setItem(KEY, JSON.stringify(session));

export const clearSession = () => sessionStorage.removeItem(KEY);

/** What every view of a signed-in dashboard may use. */
export interface Signed {
  /** The signed-in person, as last read from the server. */
  viewer: ViewerFragment;
  /** Uploads a file as the viewer (POST /attachments); an UNAUTHENTICATED answer ends the session. */
  upload(file: File, progress: (sent: number, total: number) => void): Upload;
  /** Bumped each time the live connection comes back after a drop: what was missed must be asked again. */
  reconnections: number;
}

export const SignedContext = createContext<Signed | null>(null);

export function useSigned(): Signed {
  const signed = useContext(SignedContext);
  if (!signed) throw new Error('useSigned outside a signed-in dashboard');
  return signed;
}

/**
 * useQuery, asked again over the network whenever the live connection comes
 * back: nothing was pushed while it was down.
 */
export function useLiveQuery<Data, Variables extends AnyVariables>(args: UseQueryArgs<Variables, Data>) {
  const result = useQuery<Data, Variables>(args);
  const { reconnections } = useSigned();
  const [, reexecute] = result;
  useEffect(() => {
    if (reconnections) reexecute({ requestPolicy: 'network-only' });
  }, [reconnections]);
  return result;
}
