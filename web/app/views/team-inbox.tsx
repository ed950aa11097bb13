// A placeholder until the view is built.
export function TeamInbox(_props: { teamId: string }) {
  return <p class="hint">Not built yet.</p>;
}
