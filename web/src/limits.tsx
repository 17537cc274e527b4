import { formatPrice, parseUSD, usdInput } from './format';
import { graphql } from './gql';
import { TextField } from './ui';

// A service's budgets and pace, which its keys inherit: what the services
// screen edits and the key form shows of a key's service.
graphql(`
  fragment ServiceLimitFields on Service {
    limitCostHourWarn
    limitCostHourBlock
    limitCostDayWarn
    limitCostDayBlock
    limitCostMonthWarn
    limitCostMonthBlock
    limitCostTotalBlock
    limitRpm
    limitTpm
    limitConcurrency
  }
`);

export const LIMIT_FIELDS = [
  ['limitCostHourWarn', 'Hourly warn'],
  ['limitCostHourBlock', 'Hourly block'],
  ['limitCostDayWarn', 'Daily warn'],
  ['limitCostDayBlock', 'Daily block'],
  ['limitCostMonthWarn', 'Monthly warn'],
  ['limitCostMonthBlock', 'Monthly block'],
  ['limitCostTotalBlock', 'Total block'],
] as const;

export type LimitName = (typeof LIMIT_FIELDS)[number][0];
export type Limits = Record<LimitName, number | null>;
export type LimitTexts = Record<LimitName, string>;

export function limitTexts(from?: Partial<Record<LimitName, number | null | undefined>> | null): LimitTexts {
  const out = {} as LimitTexts;
  for (const [name] of LIMIT_FIELDS) out[name] = usdInput(from?.[name]);
  return out;
}

/** Parses the seven limit inputs: blank is no limit (null). Errors are
 * keyed by the API's field names, like the server's own. */
export function parseLimits(texts: LimitTexts): { limits: Limits; errors: Record<string, string> } {
  const limits = {} as Limits;
  const errors: Record<string, string> = {};
  for (const [name] of LIMIT_FIELDS) {
    const r = parseUSD(texts[name]);
    limits[name] = r.value;
    if (r.error) errors[name] = r.error;
  }
  const pairs: [LimitName, LimitName, string][] = [
    ['limitCostHourWarn', 'limitCostHourBlock', 'hourly'],
    ['limitCostDayWarn', 'limitCostDayBlock', 'daily'],
    ['limitCostMonthWarn', 'limitCostMonthBlock', 'monthly'],
  ];
  for (const [warn, block, what] of pairs) {
    const w = limits[warn];
    const b = limits[block];
    if (w != null && b != null && w > b && !errors[warn]) errors[warn] = `The ${what} warning is above its block (${formatPrice(b)}).`;
  }
  return { limits, errors };
}

/** Only the limits that are set, for create inputs. */
export function setOnly<K extends string>(values: Record<K, number | null>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const name of Object.keys(values) as K[]) {
    const v = values[name];
    if (v != null) out[name] = v;
  }
  return out;
}

export function setLimits(limits: Limits): Partial<Limits> {
  return setOnly(limits);
}

/** A fieldset of limit inputs keyed by the API's field names. With
 * inherited (a key's form), a blank field says what it inherits. */
export function LimitFieldset<K extends string>({ fields, texts, onChange, errors, inherited, legend, format, inputMode, columns = 2 }: LimitFieldsProps<K> & {
  fields: readonly (readonly [K, string])[];
  format: (v: number) => string;
  inputMode: 'decimal' | 'numeric';
  columns?: 2 | 3;
}) {
  return (
    <fieldset className="limits">
      <legend>{legend}</legend>
      <div className={`grid-${columns}`}>
        {fields.map(([name, label]) => {
          const inh = inherited?.[name];
          return (
            <TextField
              key={name}
              name={name}
              label={label}
              inputMode={inputMode}
              value={texts[name]}
              placeholder={inherited ? (inh != null ? `inherits ${format(inh)}` : 'inherits: none') : 'no limit'}
              onChange={(e) => onChange({ ...texts, [name]: e.target.value })}
              error={errors[name]}
            />
          );
        })}
      </div>
    </fieldset>
  );
}

const USD_FIELDS = LIMIT_FIELDS.map(([name, label]) => [name, `${label} (USD)`] as const);

/** What a form gives a fieldset of limits named K. */
export type LimitFieldsProps<K extends string> = {
  texts: Record<K, string>;
  onChange: (t: Record<K, string>) => void;
  errors: Record<string, string>;
  inherited?: Partial<Record<K, number | null | undefined>> | null;
  legend: string;
};

export function LimitsFields(props: LimitFieldsProps<LimitName>) {
  return <LimitFieldset {...props} fields={USD_FIELDS} format={formatPrice} inputMode="decimal" />;
}
