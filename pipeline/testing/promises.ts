/** Promise helpers for tests. */

/** Tracks whether a promise has settled, without waiting on it. */
export function track<T>(promise: Promise<T>): { done: () => boolean } {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { done: () => done };
}
