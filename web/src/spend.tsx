import { graphql } from './gql';
import type { SpendFieldsFragment } from './gql/graphql';
import { SpendGauge } from './ui';
import { WINDOW_LABEL } from './status';

export const SpendFields = graphql(`
  fragment SpendFields on Spend {
    window
    windowStart
    spent
    reserved
    warn
    block
    resetsAt
  }
`);


export function spendIn(spend: readonly SpendFieldsFragment[] | undefined, window: string): number {
  return spend?.find((s) => s.window === window)?.spent ?? 0;
}

/** A gauge per window; windows with no limit and no spend are left out,
 * and in compact form all without a limit but today. */
export function SpendGauges({ spend, windows = ['hour', 'day', 'month', 'total'], compact }: { spend: readonly SpendFieldsFragment[]; windows?: string[]; compact?: boolean }) {
  const limited = (s: SpendFieldsFragment) => s.warn != null || s.block != null;
  // Compact (a table cell): the windows with a limit, and today.
  const wanted = compact ? (s: SpendFieldsFragment) => limited(s) || s.window === 'day' : (s: SpendFieldsFragment) => limited(s) || s.spent > 0 || s.window === 'day' || s.window === 'month';
  const shown = spend.filter((s) => windows.includes(s.window) && wanted(s));
  shown.sort((a, b) => windows.indexOf(a.window) - windows.indexOf(b.window));
  return (
    <div className={`gauges${compact ? ' compact' : ''}`}>
      {shown.map((s) => (
        <SpendGauge key={s.window} label={WINDOW_LABEL[s.window] ?? s.window} spent={s.spent} reserved={s.reserved} warn={s.warn} block={s.block} />
      ))}
    </div>
  );
}
