/**
 * A keyed mutex: tasks with the same key run one at a time, in call order;
 * tasks with different keys run concurrently. The store holds one per open
 * database, keyed by session id: every write to a session (its own `append`,
 * `create`, forks, and the engine's read-modify-write through `update`) runs
 * inside it, so one lock serializes a session's writers in this process.
 *
 * No global state: each `keyedMutex()` is independent. A task's rejection is
 * returned to its caller and does not block the next task.
 */

/** Runs tasks one at a time per key. */
export interface KeyedMutex {
  /** Runs `task` after every task already queued under `key`; resolves or rejects with it. */
  run<A>(key: string, task: () => Promise<A>): Promise<A>;
  /** Resolves when every task queued so far (under any key) has settled. */
  idle(): Promise<void>;
}

/** A new, empty keyed mutex. */
export const keyedMutex = (): KeyedMutex => {
  const tails = new Map<string, Promise<void>>();
  const run = <A>(key: string, task: () => Promise<A>): Promise<A> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const result = prev.then(task);
    const tail = result.then(settled, settled);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
  const idle = async (): Promise<void> => {
    while (tails.size > 0) await Promise.all([...tails.values()]);
  };
  return { run, idle };
};

const settled = (): void => undefined;
