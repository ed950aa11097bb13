/** The signed-in user as the dashboard needs it. */
export interface SessionUser {
  id: string;
  name: string;
  kind: 'PATIENT' | 'PROFESSIONAL';
}

export interface Session {
  token: string;
  user: SessionUser;
}

// sessionStorage rather than localStorage: the token goes when the tab closes, which
// matters on a shared clinic workstation.
const KEY = 'carethread.session';

export function loadSession(): Session | null {
  const stored = sessionStorage.getItem(KEY);
  if (!stored) return null;
  try {
    return JSON.parse(stored) as Session;
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export const saveSession = (session: Session) => sessionStorage.setItem(KEY, JSON.stringify(session));

export const clearSession = () => sessionStorage.removeItem(KEY);
