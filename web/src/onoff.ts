import { useState } from 'react';
import type { OperationResult } from 'urql';
import { describeError, noProblem, type Problem } from './errors';

/** Switching a key or service on and off: off asks first (confirmProps
 * for a Confirm), on is one click. A failure is said in a sentence: in
 * the confirmation for a disable, in pageProblem for an enable. run does
 * the switch; name names the item in messages. */
export function useOnOff<T>(run: (item: T, on: boolean) => Promise<OperationResult>, name: (item: T) => string) {
  const [asking, setAsking] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [busy, setBusy] = useState(false);

  async function set(item: T, on: boolean): Promise<boolean> {
    setProblem(noProblem);
    setBusy(true);
    const r = await run(item, on);
    setBusy(false);
    if (!r.error) return true;
    const p = describeError(r.error);
    setProblem({ ...p, message: `Could not ${on ? 'enable' : 'disable'} ${name(item)}: ${p.message ?? Object.values(p.fields).join(' ')}` });
    return false;
  }

  return {
    asking,
    busy,
    pageProblem: asking ? noProblem : problem,
    disable(item: T) {
      setProblem(noProblem);
      setAsking(item);
    },
    enable(item: T) {
      void set(item, true);
    },
    confirmProps: {
      open: asking != null,
      busy,
      problem,
      onClose() {
        setAsking(null);
        setProblem(noProblem);
      },
      async onConfirm() {
        if (asking != null && (await set(asking, false))) setAsking(null);
      },
    },
  };
}
