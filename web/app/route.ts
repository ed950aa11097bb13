// Where the dashboard is, in the address's hash: the Back button and a reload keep the view,
// and the server serves one page whatever the view.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'threads' }
  | { view: 'thread'; id: string }
  | { view: 'new' }
  | { view: 'inbox'; teamId: string }
  | { view: 'absences' }
  | { view: 'access-log' }
  | { view: 'settings' };

const WITH_ID = { thread: 'id', inbox: 'teamId' } as const;

function parseRoute(hash: string): Route {
  const [view, id] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (view === 'thread' && id) return { view, id };
  if (view === 'inbox' && id) return { view, teamId: id };
  if (view === 'new' || view === 'absences' || view === 'access-log' || view === 'settings') return { view };
  return { view: 'threads' };
}

/** The href of a route, for links. */
export function href(route: Route): string {
  const id = route.view in WITH_ID ? (route as Record<string, string>)[WITH_ID[route.view as keyof typeof WITH_ID]] : null;
  return `#/${route.view}${id ? `/${encodeURIComponent(id)}` : ''}`;
}

export const navigate = (route: Route) => {
  location.hash = href(route);
};

/** The current route, following the address. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}
