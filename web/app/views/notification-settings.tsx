// A placeholder until the view is built.
export function NotificationSettings() {
  return <p class="hint">Not built yet.</p>;
}
