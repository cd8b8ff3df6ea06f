/** `useApi(path)`: loads an API path and re-loads when it changes. */
import { useEffect, useState } from 'preact/hooks';
import { getJson, type Answer } from './data.ts';

/** The answer for `path` (`undefined` while loading); `null` path loads nothing. */
export const useApi = <A>(path: string | null): Answer<A> | undefined => {
  const [answer, setAnswer] = useState<{ path: string; answer: Answer<A> } | undefined>(undefined);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    void getJson<A>(path).then((a) => {
      if (live) setAnswer({ path, answer: a });
    });
    return () => {
      live = false;
    };
  }, [path]);
  return answer !== undefined && answer.path === path ? answer.answer : undefined;
};
