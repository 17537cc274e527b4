import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { SpendGauge, StatusBadge } from './ui';
import { formatPrice, formatUSD } from './format';
import { CHECK_FIELDS, clearField, fieldProblem, noProblem, withConflict } from './errors';
import { paceLevel, spendLevel, standing, subjectStatus, withService, type Standing } from './status';
import { keyStatus } from './screens/ApiKeys';
import { callGuide, envLine } from './snippets';

describe('formatUSD: amounts in cents from $1, up to six decimals below', () => {
  it.each([
    [0, '$0.00'],
    [0.5, '$0.50'],
    [0.75, '$0.75'],
    [0.123456, '$0.123456'],
    [0.0012, '$0.0012'],
    [0.000001, '$0.000001'],
    [0.01, '$0.01'],
    [0.999999, '$0.999999'],
    [1, '$1.00'],
    [12.5, '$12.50'],
    [1234.567891, '$1,234.57'],
    [-0.25, '-$0.25'],
    [null, '—'],
    [undefined, '—'],
  ])('%s is %s', (v, want) => {
    expect(formatUSD(v)).toBe(want);
  });
});

describe('formatPrice: a price or limit exactly as stored', () => {
  it.each([
    [0.075, '$0.075'],
    [0.15, '$0.15'],
    [2.5, '$2.50'],
    [1.25, '$1.25'],
    [1.125, '$1.125'],
    [0.0375, '$0.0375'],
    [10, '$10.00'],
    [15.000001, '$15.000001'],
    [0.000001, '$0.000001'],
    [null, '—'],
  ])('%s is %s', (v, want) => {
    expect(formatPrice(v)).toBe(want);
  });
});

describe('spend and pace levels', () => {
  it.each([
    ['no limits', { spent: 5, reserved: 0, warn: null, block: null }, 'ok'],
    ['under both', { spent: 1, reserved: 0, warn: 2, block: 3 }, 'ok'],
    ['at the warn', { spent: 2, reserved: 0, warn: 2, block: 3 }, 'warned'],
    ['in flight past the warn only', { spent: 1, reserved: 1.5, warn: 2, block: 3 }, 'ok'],
    ['at the block', { spent: 3, reserved: 0, warn: 2, block: 3 }, 'blocked'],
    ['over the block', { spent: 4, reserved: 0, warn: null, block: 3 }, 'blocked'],
    ['settled under the block, with in-flight reaching it', { spent: 2.5, reserved: 0.5, warn: null, block: 3 }, 'blocked'],
    ['a zero block', { spent: 0, reserved: 0, warn: null, block: 0 }, 'blocked'],
    ['settled and in flight adding up to the block in floats (0.7 + 0.1)', { spent: 0.7, reserved: 0.1, warn: null, block: 0.8 }, 'blocked'],
  ] as const)('%s', (_, s, want) => {
    expect(spendLevel(s)).toBe(want);
  });
  it.each([
    [{ limit: 60, remaining: 60 }, 'ok'],
    [{ limit: 60, remaining: 13 }, 'ok'],
    [{ limit: 60, remaining: 12 }, 'warned'],
    [{ limit: 60, remaining: 0 }, 'blocked'],
    [{ limit: 1, remaining: 0 }, 'blocked'],
  ] as const)('pace %o is %s', (p, want) => {
    expect(paceLevel(p)).toBe(want);
  });
  it('takes the worst level and says which limits make it', () => {
    const spend = [
      { window: 'day', spent: 0.75, reserved: 0, warn: 0.5, block: 10 },
      { window: 'month', spent: 0.75, reserved: 0.25, warn: null, block: 1 },
    ];
    expect(standing(spend, [])).toEqual({ level: 'blocked', reasons: ['This month: $1.00 ($0.25 of it in flight) of $1.00 block'] });
    expect(standing(spend.slice(0, 1), [{ kind: 'rpm', limit: 60, remaining: 50 }])).toEqual({ level: 'warned', reasons: ['Today: $0.75 past $0.50 warn'] });
    expect(standing([], [{ kind: 'concurrency', limit: 2, remaining: 0 }])).toEqual({ level: 'blocked', reasons: ['Requests in flight: 2 of 2'] });
    expect(standing()).toEqual({ level: 'ok', reasons: [] });
  });
  it('says off first, then blocked or warned, else active', () => {
    const blocked = [{ window: 'day', spent: 2, reserved: 0, warn: null, block: 1 }];
    expect(subjectStatus('disabled', blocked).text).toBe('disabled');
    expect(subjectStatus(null, blocked)).toMatchObject({ tone: 'bad', text: 'blocked' });
    expect(subjectStatus(null, [{ window: 'day', spent: 2, reserved: 0, warn: 1, block: null }])).toMatchObject({ tone: 'warn', text: 'warned' });
    expect(subjectStatus(null)).toEqual({ tone: 'ok', text: 'active', reasons: [] });
    const now = Date.parse('2026-06-01T00:00:00Z');
    const spend = blocked.map((s) => ({ ...s, windowStart: '', resetsAt: null }));
    expect(keyStatus({ isActive: true, expiresAt: null, spend, pace: [] }, now).text).toBe('blocked');
    expect(keyStatus({ isActive: false, expiresAt: null, spend, pace: [] }, now).text).toBe('disabled');
    expect(keyStatus({ isActive: true, expiresAt: '2026-05-01T00:00:00Z', spend, pace: [] }, now)).toMatchObject({ tone: 'bad', text: 'expired' });
  });
});

describe('a key with its service', () => {
  const blocked: Standing = { level: 'blocked', reasons: ['Today: $2.00 of $1.00 block'] };
  const warned: Standing = { level: 'warned', reasons: ['Today: $0.75 past $0.50 warn'] };
  const ok: Standing = { level: 'ok', reasons: [] };
  it.each<[string, Standing, Standing | null, Standing]>([
    ['a blocked service blocks an active key', ok, blocked, { level: 'blocked', reasons: ['service chat: Today: $2.00 of $1.00 block'] }],
    ['a warned service warns an active key', ok, warned, { level: 'warned', reasons: ['service chat: Today: $0.75 past $0.50 warn'] }],
    ['a blocked key stays blocked by its own', blocked, warned, blocked],
    ['both blocked say both', blocked, blocked, { level: 'blocked', reasons: ['Today: $2.00 of $1.00 block', 'service chat: Today: $2.00 of $1.00 block'] }],
    ['an active service changes nothing', warned, ok, warned],
    ['no service changes nothing', warned, null, warned],
  ])('%s', (_, key, service, want) => {
    expect(withService(key, service, 'chat')).toEqual(want);
  });
  it('counts the service in a key badge', () => {
    const over = [{ window: 'day', spent: 2, reserved: 0, warn: null, block: 1, windowStart: '', resetsAt: null }];
    const k = { isActive: true, expiresAt: null, spend: [], pace: [] };
    expect(keyStatus(k, 0, { serviceName: 'chat', spend: over, pace: [] })).toMatchObject({ text: 'blocked', reasons: ['service chat: Today: $2.00 of $1.00 block'] });
    expect(keyStatus({ ...k, isActive: false }, 0, { serviceName: 'chat', spend: over, pace: [] }).text).toBe('disabled');
  });
});

describe('form problems', () => {
  it('words a duplicate name at its field and points at it', () => {
    const conflict = { message: 'a service named "chat" already exists', fields: {}, code: 'CONFLICT' };
    const p = withConflict(conflict, 'serviceName', 'A service named “chat” already exists.');
    expect(p.fields).toEqual({ serviceName: 'A service named “chat” already exists.' });
    expect(p.message).toBe(CHECK_FIELDS);
  });
  it('clears a changed field, and the pointer with the last one', () => {
    const p = fieldProblem({ name: 'Give the key a name.', limitRpm: 'Enter a whole number.' });
    const one = clearField(p, 'name');
    expect(one.fields).toEqual({ limitRpm: 'Enter a whole number.' });
    expect(one.message).toBe(CHECK_FIELDS);
    const none = clearField(one, 'limitRpm');
    expect(none.fields).toEqual({});
    expect(none.message).toBeNull();
    expect(clearField(p, 'description')).toBe(p);
    expect(clearField(noProblem, '')).toBe(noProblem);
    const server = { message: 'internal error', fields: { name: 'taken' }, code: 'INTERNAL' };
    expect(clearField(server, 'name').message).toBe('internal error');
  });
});

describe('how to call the gateway', () => {
  const origin = 'https://gw.example.com';
  const key = 'sk_test123';
  it.each([
    ['openai', `${origin}/v1`, `curl ${origin}/v1/chat/completions`, 'Authorization: Bearer sk_test123', 'from openai import OpenAI'],
    ['anthropic', origin, `curl ${origin}/v1/messages`, 'x-api-key: sk_test123', 'anthropic.Anthropic(base_url="https://gw.example.com"'],
    ['gemini', origin, `curl '${origin}/v1beta/models/m-1:generateContent'`, 'x-goog-api-key: sk_test123', 'http_options={"base_url": "https://gw.example.com"}'],
    ['cohere', origin, `curl ${origin}/v2/chat`, 'Authorization: Bearer sk_test123', 'cohere.ClientV2('],
    ['unknown', `${origin}/v1`, `curl ${origin}/v1/chat/completions`, 'Bearer sk_test123', 'OpenAI('],
  ])('%s', (protocol, baseUrl, curl, auth, python) => {
    const g = callGuide(protocol, `${origin}/`, key, 'm-1');
    expect(g.baseUrl).toBe(baseUrl);
    expect(g.snippets.map((s) => s.label)[0]).toBe('curl');
    expect(g.snippets[0].code.startsWith(curl)).toBe(true);
    expect(g.snippets[0].code).toContain(auth);
    expect(g.snippets[1].code).toContain(python);
    // SDK examples read the key from the environment, never inline.
    for (const s of g.snippets.slice(1)) {
      expect(s.code).not.toContain(key);
      expect(s.code).toContain('SLUICE_API_KEY');
      expect(s.code).toContain('"m-1"');
    }
  });
  it('quotes the key for the shell', () => {
    expect(envLine("sk_a'b")).toBe(`export SLUICE_API_KEY='sk_a'\\''b'`);
    expect(callGuide('openai', origin, key, "it's").snippets[0].code).toContain(`"model":"it'\\''s"`);
  });
});

describe('status components', () => {
  it('turns a gauge red once in-flight spend reaches the block, and says so', () => {
    const html = renderToStaticMarkup(<SpendGauge label="Today" spent={0.8} reserved={0.2} warn={0.5} block={1} />);
    expect(html).toContain('data-level="blocked"');
    expect(html).toContain('gauge-fill held bad');
    expect(html).toContain('+ $0.20 in flight');
    expect(html).toContain('refusing');
    const settled = renderToStaticMarkup(<SpendGauge label="Today" spent={0.8} warn={0.5} block={1} />);
    expect(settled).toContain('data-level="warned"');
    expect(settled).not.toContain('in flight');
  });
  it('shows a badge with the limits that make it', () => {
    const html = renderToStaticMarkup(<StatusBadge status={{ tone: 'bad', text: 'blocked', reasons: ['Today: $2.00 of $1.00 block'] }} />);
    expect(html).toContain('badge bad');
    expect(html).toContain('>blocked<');
    expect(html).toContain('Today: $2.00 of $1.00 block');
    expect(renderToStaticMarkup(<StatusBadge status={{ tone: 'bad', text: 'blocked', reasons: ['x'] }} brief />)).not.toContain('muted');
  });
});
