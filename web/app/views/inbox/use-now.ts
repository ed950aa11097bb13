import { useEffect, useState } from 'preact/hooks';

/** The time now, renewed each minute: what waiting times are counted to, so that they tick. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
