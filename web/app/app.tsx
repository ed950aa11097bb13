// The dashboard at /app: the sign-in form, or a signed-in person's views, all reading one
// normalized cache that one live subscription keeps current.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Provider, useQuery, useSubscription } from '@urql/preact';
import { MeDocument, SignOutDocument, ThreadActivityDocument } from '../gql/graphql';
import { upload } from './api';
import { signedInClient } from './client';
import { href, useRoute, type Route } from './route';
import { clearSession, loadSession, saveSession, SignedContext, type Session, type Signed } from './session';
import { Absences } from './views/absences';
import { AccessLog } from './views/access-log';
import { EscalationAlerts } from './views/escalation-alerts';
import { NewThread } from './views/new-thread';
import { NotificationSettings } from './views/notification-settings';
import { SignIn } from './views/sign-in';
import { TeamInbox } from './views/team-inbox';
import { ThreadList } from './views/thread-list';
import { ThreadPane } from './views/thread-pane';

const SESSION_ENDED = 'Your session has ended. Sign in again.';

export function App() {
  const [session, setSession] = useState(loadSession);
  const [notice, setNotice] = useState<string>();
  if (!session)
    return (
      <SignIn
        notice={notice}
        signedIn={(signed) => {
          saveSession(signed);
          setSession(signed);
        }}
      />
    );
  const end = (why?: string) => {
    clearSession();
    setNotice(why);
    setSession(null);
  };
  return <SignedIn key={session.token} session={session} end={end} />;
}

type LiveState = 'connecting' | 'on' | 'lost';
const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting to live updates…',
  on: 'Live updates on.',
  lost: 'Live updates lost. Reconnecting…',
};

function SignedIn({ session, end }: { session: Session; end: (why?: string) => void }) {
  const [live, setLive] = useState<LiveState>('connecting');
  const [reconnections, setReconnections] = useState(0);
  const signed = useMemo(
    () =>
      signedInClient(
        session.token,
        {
          connected: (wasRetry) => {
            setLive('on');
            if (wasRetry) setReconnections((count) => count + 1);
          },
          disconnected: () => setLive('lost'),
        },
        () => end(SESSION_ENDED),
      ),
    [session.token],
  );
  useEffect(() => () => signed.dispose(), [signed]);
  const signOut = () => {
    // The server ends the session, so a copy of the token is refused too; the tab signs out whatever it answers.
    void signed.client.mutation(SignOutDocument, {}).toPromise();
    end();
  };
  return (
    <Provider value={signed.client}>
      <Shell session={session} live={live} reconnections={reconnections} signOut={signOut} end={end} />
    </Provider>
  );
}

/**
 * The one live feed: its events are written into the cache (cache.ts), which updates the views that
 * show what changed. A component of its own, since each event is a new result of the hook's: in the
 * shell it would render every view again on every event.
 */
function LiveFeed() {
  useSubscription({ query: ThreadActivityDocument });
  return null;
}

function Shell({ session, live, reconnections, signOut, end }: { session: Session; live: LiveState; reconnections: number; signOut: () => void; end: (why?: string) => void }) {
  const route = useRoute();
  const [{ data }] = useQuery({ query: MeDocument, requestPolicy: 'cache-and-network' });
  const viewer = data?.me ?? session.user;
  const context = useMemo<Signed>(
    () => ({
      viewer,
      reconnections,
      upload: (file, progress) => {
        const started = upload(file, session.token, progress);
        started.done.catch((error: { code?: string }) => error.code === 'UNAUTHENTICATED' && end(SESSION_ENDED));
        return started;
      },
    }),
    [viewer, reconnections, session.token],
  );
  const professional = viewer.kind === 'PROFESSIONAL';
  const link = (to: Route, label: string) => {
    const current = href(to) === href(route) || (to.view === 'threads' && route.view === 'thread');
    return (
      <li key={href(to)}>
        <a href={href(to)} aria-current={current ? 'page' : undefined}>
          {label}
        </a>
      </li>
    );
  };
  return (
    <SignedContext.Provider value={context}>
      <LiveFeed />
      <header>
        <p class="brand">CareThread</p>
        <p class="who">
          Signed in as <strong>{viewer.name}</strong>
        </p>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Dashboard">
        <ul>
          {link({ view: 'threads' }, 'My threads')}
          {link({ view: 'new' }, 'New message')}
          {professional && viewer.teams.map((team) => link({ view: 'inbox', teamId: team.id }, `${team.name} inbox`))}
          {professional ? link({ view: 'absences' }, 'Absences') : link({ view: 'access-log' }, 'Who saw my messages')}
          {link({ view: 'settings' }, 'Notifications')}
        </ul>
        <p class="live-status" role="status">
          {LIVE_TEXT[live]}
        </p>
      </nav>
      {professional && <EscalationAlerts />}
      <main class={`view-${route.view}`} tabIndex={-1}>
        <View route={route} />
      </main>
    </SignedContext.Provider>
  );
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'threads':
    case 'thread': {
      const open = route.view === 'thread' ? route.id : null;
      return (
        <div class={open ? 'threads has-open' : 'threads'}>
          <ThreadList selectedId={open} />
          {open ? <ThreadPane key={open} id={open} /> : <p class="hint pane">Choose a thread, or start a new message.</p>}
        </div>
      );
    }
    case 'new':
      return <NewThread />;
    case 'inbox':
      return <TeamInbox key={route.teamId} teamId={route.teamId} />;
    case 'absences':
      return <Absences />;
    case 'access-log':
      return <AccessLog />;
    case 'settings':
      return <NotificationSettings />;
  }
}
