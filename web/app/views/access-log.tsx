// A placeholder until the view is built.
export function AccessLog() {
  return <p class="hint">Not built yet.</p>;
}
