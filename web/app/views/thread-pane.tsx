// A placeholder until the view is built.
export function ThreadPane(_props: { id: string }) {
  return <p class="hint">Not built yet.</p>;
}
