// Promise-returning APIs must reject, never throw synchronously: callers chain `.catch` and expect
// one failure path. `attempt` turns a synchronous throw (a name check, a read-only view) into a
// rejection.
export function attempt<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
