import { useState } from 'preact/hooks';
import { LoginDocument } from '../../gql/graphql';
import { anonymousClient } from '../client';
import { explain } from '../errors';
import type { Session } from '../session';

/** The sign-in form; `notice` says why the user is back here (e.g. an expired session). */
export function SignIn({ signedIn, notice }: { signedIn: (session: Session) => void; notice?: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(notice ?? '');

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError('');
    const result = await anonymousClient().mutation(LoginDocument, { email, password }).toPromise();
    if (result.data) return signedIn(result.data.login);
    // The server's UNAUTHENTICATED message is meant for the user: a wrong password, or a disabled account.
    setError(explain(result.error));
    setPassword('');
    setBusy(false);
  }

  return (
    <main class="sign-in-page">
      <form class="sign-in" aria-labelledby="sign-in-title" onSubmit={submit}>
        <h1 id="sign-in-title">Sign in to CareThread</h1>
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="error" role="alert">
          {error}
        </p>
      </form>
    </main>
  );
}
