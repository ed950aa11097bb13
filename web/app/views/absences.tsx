// A placeholder until the view is built.
export function Absences() {
  return <p class="hint">Not built yet.</p>;
}
