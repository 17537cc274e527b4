import { afterEach, describe, expect, it, vi } from 'vitest';
import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { formatDuration, formatMs, formatRelative, formatUSD, fromLocalInput, maskKey, parseUSD, percent, toLocalInput } from './format';
import { CHECK_FIELDS, describeError, isUnauthenticated, withConflict } from './errors';
import { parseLimits, limitTexts, setLimits } from './limits';
import { nextReset, paceTexts, paceUse, parsePace, parsePaceLimit, setPace, throttle } from './pace';
import { fillBuckets } from './chart';
import { nodes } from './connection';
import { usageWhere } from './screens/UsageLog';
import { keyStatus } from './screens/ApiKeys';
import { windowText } from './liveusage';
import { totalText } from './pager';
import { usageExportURL } from './usageexport';

const gqlError = (message: string, extensions: Record<string, unknown>) => new CombinedError({ graphQLErrors: [new GraphQLError(message, { extensions })] });

describe('money and time formatting', () => {
  it('shows dollars, keeping sub-cent amounts', () => {
    expect(formatUSD(12.5)).toBe('$12.50');
    expect(formatUSD(0)).toBe('$0.00');
    expect(formatUSD(0.000123)).toBe('$0.000123');
    expect(formatUSD(null)).toBe('—');
  });
  it('parses dollar inputs, blank meaning no limit', () => {
    expect(parseUSD('')).toEqual({ value: null });
    expect(parseUSD(' $25 ')).toEqual({ value: 25 });
    expect(parseUSD('0.000001')).toEqual({ value: 0.000001 });
    expect(parseUSD('-3').error).toMatch(/amount in dollars/);
    expect(parseUSD('1.0000001').error).toBeDefined();
    expect(parseUSD('abc').error).toBeDefined();
  });
  it('masks provider keys to their last four', () => {
    expect(maskKey('1234')).toBe('…1234');
    expect(maskKey(null)).toBe('no key');
  });
  it('says durations and relative times', () => {
    expect(formatDuration(4_000)).toBe('4s');
    expect(formatDuration(250_000)).toBe('4m 10s');
    expect(formatDuration(3 * 3600_000 + 60_000)).toBe('3h 1m');
    expect(formatDuration(72 * 3600_000)).toBe('3d');
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(formatRelative('2026-01-01T00:01:00Z', now)).toBe('in 1m 0s');
    expect(formatRelative('2025-12-31T23:59:30Z', now)).toBe('30s ago');
  });
  it('round-trips datetime-local values', () => {
    const iso = '2026-03-04T05:06:00.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(fromLocalInput('')).toBeNull();
  });
  it('clamps percentages and has none without a scale', () => {
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
    expect(percent(1, null)).toBeNull();
    expect(percent(1, 0)).toBeNull();
  });
});

describe('API errors', () => {
  it('puts input errors next to their field and the rest on the form', () => {
    const err = new CombinedError({
      graphQLErrors: [
        new GraphQLError('unknown model gpt-9', { extensions: { code: 'BAD_USER_INPUT', field: 'modelsEnabled' } }),
        new GraphQLError('something else', { extensions: { code: 'BAD_USER_INPUT' } }),
      ],
    });
    expect(describeError(err)).toEqual({ message: 'something else', fields: { modelsEnabled: 'unknown model gpt-9' }, code: 'BAD_USER_INPUT' });
  });
  it('says when the gateway does not answer', () => {
    const p = describeError(new CombinedError({ networkError: new Error('Failed to fetch') }));
    expect(p.code).toBe('NETWORK');
    expect(p.message).toMatch(/did not answer/);
  });
  it('recognises an expired login', () => {
    expect(isUnauthenticated(gqlError('login required', { code: 'UNAUTHENTICATED' }))).toBe(true);
    expect(isUnauthenticated(gqlError('no', { code: 'FORBIDDEN' }))).toBe(false);
  });
  it('shows a duplicate name at the name field', () => {
    const p = withConflict(describeError(gqlError('a service named chat exists', { code: 'CONFLICT' })), 'serviceName');
    expect(p.fields.serviceName).toBe('a service named chat exists');
    expect(p.message).toBe(CHECK_FIELDS);
    expect(withConflict(describeError(gqlError('x', { code: 'FORBIDDEN' }))).fields).toEqual({});
  });
  it('has no problem without an error', () => {
    expect(describeError(undefined)).toEqual({ message: null, fields: {}, code: null });
  });
});

describe('budget limits', () => {
  it('parses the seven limits, blank as none', () => {
    const texts = { ...limitTexts(), limitCostDayWarn: '50', limitCostDayBlock: '100' };
    const { limits, errors } = parseLimits(texts);
    expect(errors).toEqual({});
    expect(limits.limitCostDayBlock).toBe(100);
    expect(limits.limitCostHourWarn).toBeNull();
    expect(setLimits(limits)).toEqual({ limitCostDayWarn: 50, limitCostDayBlock: 100 });
  });
  it('refuses a warning above its block, and bad amounts, by field', () => {
    const { errors } = parseLimits({ ...limitTexts(), limitCostMonthWarn: '200', limitCostMonthBlock: '100', limitCostTotalBlock: 'lots' });
    expect(errors.limitCostMonthWarn).toMatch(/monthly warning is above its block/);
    expect(errors.limitCostTotalBlock).toMatch(/amount in dollars/);
  });
  it('fills the form from an entity', () => {
    expect(limitTexts({ limitCostHourBlock: 2.5 }).limitCostHourBlock).toBe('2.5');
    expect(limitTexts({ limitCostHourBlock: null }).limitCostHourBlock).toBe('');
  });
});

describe('pace limits', () => {
  it.each([
    ['', null],
    [' 60 ', 60],
    ['1,000', 1000],
    ['2147483647', 2147483647],
  ])('parses %j as %j', (text, want) => {
    expect(parsePaceLimit(text)).toEqual({ value: want });
  });
  it.each([
    ['0', /above zero/],
    ['-5', /whole number/],
    ['1.5', /whole number/],
    ['1e3', /whole number/],
    ['lots', /whole number/],
    ['2147483648', /at most 2,147,483,647/],
  ])('refuses %j', (text, want) => {
    const r = parsePaceLimit(text);
    expect(r.value).toBeNull();
    expect(r.error).toMatch(want);
  });
  it('parses the three limits, errors keyed by the API field', () => {
    const { pace, errors } = parsePace({ ...paceTexts(), limitRpm: '60', limitConcurrency: '0' });
    expect(pace).toEqual({ limitRpm: 60, limitTpm: null, limitConcurrency: null });
    expect(Object.keys(errors)).toEqual(['limitConcurrency']);
    expect(setPace(pace)).toEqual({ limitRpm: 60 });
  });
  it('fills the form from an entity', () => {
    expect(paceTexts({ limitTpm: 40000, limitRpm: null })).toEqual({ limitRpm: '', limitTpm: '40000', limitConcurrency: '' });
    expect(paceTexts(null)).toEqual({ limitRpm: '', limitTpm: '', limitConcurrency: '' });
  });
  it('finds the first window to empty again', () => {
    expect(nextReset([{ resetsInSeconds: 0 }, { resetsInSeconds: 42.5 }], undefined, [{ resetsInSeconds: 7 }])).toBe(7);
    expect(nextReset([{ resetsInSeconds: 0 }], [])).toBeNull();
    expect(nextReset()).toBeNull();
  });
  it('counts use as the limit less what remains, never below zero', () => {
    expect(paceUse({ limit: 60, remaining: 45 })).toBe(15);
    expect(paceUse({ limit: 60, remaining: 70 })).toBe(0);
  });
});

describe('live refresh', () => {
  afterEach(() => vi.useRealTimers());
  it('runs at once, then at most once a second, folding calls together', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    t();
    expect(fn).toHaveBeenCalledTimes(1);
    t();
    t();
    vi.advanceTimersByTime(999);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(2);
    t();
    expect(fn).toHaveBeenCalledTimes(3);
  });
  it('keeps refreshing under a steady stream of events', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    for (let i = 0; i < 50; i++) {
      t();
      vi.advanceTimersByTime(100);
    }
    expect(fn.mock.calls.length).toBeGreaterThanOrEqual(5);
    expect(fn.mock.calls.length).toBeLessThanOrEqual(6);
  });
  it('runs nothing after cancel', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    t();
    t();
    t.cancel();
    vi.advanceTimersByTime(2000);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('charts, lists and filters', () => {
  it('fills missing buckets with zero', () => {
    const h = 3600_000;
    const from = Date.parse('2026-01-01T00:00:00Z');
    const b = fillBuckets([{ start: '2026-01-01T02:00:00Z', value: 3 }], from, from + 3 * h, h);
    expect(b.map((x) => x.value)).toEqual([0, 0, 3, 0]);
  });
  it('drops null edges of a connection', () => {
    expect(nodes({ edges: [{ node: { id: '1' } }, null, { node: null }] })).toEqual([{ id: '1' }]);
    expect(nodes(undefined)).toEqual([]);
  });
  it('turns usage filters into a where input', () => {
    expect(usageWhere({ serviceId: '12', apiKeyId: '', model: ' gpt ', status: 'error', from: '', to: '' })).toEqual({ serviceID: 12, modelContainsFold: 'gpt', statusGTE: 400 });
    expect(usageWhere({ serviceId: '', apiKeyId: '7', model: '', status: 'ok', from: '', to: '' })).toEqual({ apiKeyID: 7, statusLT: 400 });
    // A model in use is matched exactly, which the model index serves.
    expect(usageWhere({ serviceId: '', apiKeyId: '', model: 'gpt-4o-mini', status: '', from: '', to: '' }, ['gpt-4o-mini'])).toEqual({ model: 'gpt-4o-mini' });
    expect(usageWhere({ serviceId: '', apiKeyId: '', model: 'gpt-4o', status: '', from: '', to: '' }, ['gpt-4o-mini'])).toEqual({ modelContainsFold: 'gpt-4o' });
  });
  it('tells a key disabled, expired or active', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(keyStatus({ isActive: false, expiresAt: null }, now).text).toBe('disabled');
    expect(keyStatus({ isActive: true, expiresAt: '2026-05-01T00:00:00Z' }, now).text).toBe('expired');
    expect(keyStatus({ isActive: true, expiresAt: '2027-01-01T00:00:00Z' }, now).text).toBe('active');
  });
});

describe('provider windows', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('says what is left and when it resets', () => {
    expect(windowText({ limit: 500, remaining: 499, resetAt: '2026-01-01T12:00:30Z' }, now)).toBe('499 of 500 left · resets in 30s');
    expect(windowText({ limit: 500, remaining: 499 }, now)).toBe('499 of 500 left');
    expect(windowText({ limit: 500, remaining: 499, resetAt: '2026-01-01T12:00:00.120Z' }, now)).toBe('499 of 500 left · resets in under a second');
  });
  it('never shows a count from a window that has reset', () => {
    const text = windowText({ limit: 5000, remaining: 4999, resetAt: '2026-01-01T11:59:00Z' }, now);
    expect(text).toMatch(/^5,000 a window · reset .*, no answer since$/);
    expect(text).not.toContain('4,999');
  });
  it('says nothing of a window the provider did not report', () => {
    expect(windowText({}, now)).toBeNull();
  });
});

describe('connection totals', () => {
  it('marks a count that stopped at its cap', () => {
    expect(totalText(10000, false)).toBe(`${(10000).toLocaleString()}+`);
    expect(totalText(42, true)).toBe('42');
    expect(totalText(7)).toBe('7');
  });
});

describe('latency and the usage export', () => {
  it('shows latencies in ms under a second, seconds above, a dash when unknown', () => {
    expect(formatMs(840.4)).toBe('840 ms');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(null)).toBe('—');
  });
  it('carries the usage log filter to the export as its where input', () => {
    const u = new URL(usageExportURL({ apiKeyID: 7, statusGTE: 400 }, 'http://gateway.test/dashboard/usage'));
    expect(u.pathname).toBe('/api/admin/usage.csv');
    expect(JSON.parse(u.searchParams.get('where') ?? '')).toEqual({ apiKeyID: 7, statusGTE: 400 });
    expect(new URL(usageExportURL({}, 'http://gateway.test/')).search).toBe('');
  });
});
