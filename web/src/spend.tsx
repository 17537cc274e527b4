import { graphql } from './gql';
import type { SpendFieldsFragment } from './gql/graphql';
import { SpendGauge } from './ui';

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

const WINDOW_LABEL: Record<string, string> = { hour: 'This hour', day: 'Today', month: 'This month', total: 'All time' };

export function spendIn(spend: readonly SpendFieldsFragment[] | undefined, window: string): number {
  return spend?.find((s) => s.window === window)?.spent ?? 0;
}

/** A gauge per window; windows with no limit and no spend are left out. */
export function SpendGauges({ spend, windows = ['hour', 'day', 'month', 'total'] }: { spend: readonly SpendFieldsFragment[]; windows?: string[] }) {
  const shown = spend.filter((s) => windows.includes(s.window) && (s.warn != null || s.block != null || s.spent > 0 || s.window === 'day' || s.window === 'month'));
  shown.sort((a, b) => windows.indexOf(a.window) - windows.indexOf(b.window));
  return (
    <div className="gauges">
      {shown.map((s) => (
        <SpendGauge key={s.window} label={WINDOW_LABEL[s.window] ?? s.window} spent={s.spent} reserved={s.reserved} warn={s.warn} block={s.block} />
      ))}
    </div>
  );
}
