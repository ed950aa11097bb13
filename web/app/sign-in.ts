import { ApiError, explain, request } from './api';
import { h } from './dom';
import { LOGIN, type LoginResult } from './operations';
import type { Session } from './session';

/** The sign-in form; `notice` says why the user is back here (e.g. an expired session). */
export function signInForm(signedIn: (session: Session) => void, notice?: string): HTMLElement {
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const error = h('p', { class: 'error', role: 'alert' }, notice ?? '');
  const form = h(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in to CareThread'),
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    button,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      const { login } = await request<LoginResult>(LOGIN, { email: email.value, password: password.value }, null);
      signedIn(login);
    } catch (failure) {
      // The server's UNAUTHENTICATED message here is meant for the user: a wrong password, or a disabled account.
      error.textContent = failure instanceof ApiError && failure.code === 'UNAUTHENTICATED' ? failure.message : explain(failure);
      password.value = '';
      button.disabled = false;
    }
  });
  return form;
}
