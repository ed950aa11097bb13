/** Below a form's button: what its last submit did, said politely, or what went wrong, said at once. */
export function FormOutcome({ done, problem }: { done: string; problem: string }) {
  return (
    <>
      <p class="saved" role="status">
        {done}
      </p>
      <p class="error" role="alert">
        {problem}
      </p>
    </>
  );
}
