/** What `observeIterator` calls back. */
export interface IteratorObserver {
  /** Called for each value the source yields. */
  value?: () => void;
  /** Called once, however the iteration ends: the source done or failing, return() or throw(). */
  end: () => void;
}

/**
 * `source` passed through unchanged, with `observer` told of each value and of
 * the end. Not an async generator on purpose: its return() would wait for the
 * pending next() (for a subscription, the next event, maybe never), where this
 * one ends the source at once.
 */
export function observeIterator<T>(source: AsyncIterator<T>, observer: IteratorObserver): AsyncIterableIterator<T> {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    observer.end();
  };
  return {
    next: async () => {
      try {
        const step = await source.next();
        if (step.done) end();
        else observer.value?.();
        return step;
      } catch (error) {
        end();
        throw error;
      }
    },
    return: async (value?: unknown) => {
      end();
      return source.return ? source.return(value) : { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      end();
      if (source.throw) return source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
