// A placeholder until the view is built.
export function NewThread() {
  return <p class="hint">Not built yet.</p>;
}
