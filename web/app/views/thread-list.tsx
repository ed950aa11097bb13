// A placeholder until the view is built.
export function ThreadList(_props: { selectedId: string | null }) {
  return <p class="hint">Not built yet.</p>;
}
