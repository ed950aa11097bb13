// A placeholder until the view is built.
export function EscalationAlerts() {
  return <p class="hint">Not built yet.</p>;
}
