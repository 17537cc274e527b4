import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { Client, Provider, makeResult } from 'urql';
import { map, pipe } from 'wonka';
import { modelMapRows, moveTarget, parseModelMap, parseWeight, targetStatus } from './targets';
import { NO_TARGETS, ServiceTargets, TargetsList } from './screens/ServiceTargets';
import type { ServiceTargetFieldsFragment } from './gql/graphql';

const target = (over: Partial<ServiceTargetFieldsFragment> = {}): ServiceTargetFieldsFragment => ({
  id: 't1',
  position: 0,
  weight: 3,
  enabled: true,
  modelMap: { 'gpt-4o': 'azure-gpt4o' },
  credential: { id: 'c1', displayName: 'Backup', provider: 'openai', apiKeyLastFour: '4321' },
  state: { healthy: true, coolingDownUntil: null, lastError: null, consecutiveFailures: 0 },
  ...over,
});

describe('model map editor', () => {
  it('turns a map into sorted rows, leaving out non-strings', () => {
    expect(modelMapRows({ b: 'B', a: 'A', n: 3 })).toEqual([
      { client: 'a', upstream: 'A' },
      { client: 'b', upstream: 'B' },
    ]);
    expect(modelMapRows(null)).toEqual([]);
  });
  it('parses rows back, trimming and skipping blank rows', () => {
    const rows = [{ client: ' gpt-4o ', upstream: 'my-deploy' }, { client: '', upstream: '' }, { client: 'o1', upstream: 'openai/o1' }];
    expect(parseModelMap(rows)).toEqual({ map: { 'gpt-4o': 'my-deploy', o1: 'openai/o1' }, errors: {} });
    expect(parseModelMap(modelMapRows({ x: 'y', z: 'w' })).map).toEqual({ x: 'y', z: 'w' });
    expect(parseModelMap([]).map).toEqual({});
  });
  it('marks half-filled, spaced and duplicate rows by index', () => {
    const { map, errors } = parseModelMap([
      { client: 'a', upstream: '' },
      { client: 'b c', upstream: 'd' },
      { client: 'e', upstream: 'f' },
      { client: 'e', upstream: 'g' },
    ]);
    expect(map).toEqual({ e: 'f' });
    expect(errors[0]).toMatch(/both model names/);
    expect(errors[1]).toMatch(/no spaces/);
    expect(errors[2]).toBeUndefined();
    expect(errors[3]).toMatch(/e is mapped twice/);
  });
});

describe('targets', () => {
  it('moves a target up or down, not past the ends', () => {
    expect(moveTarget(['a', 'b', 'c'], 'b', -1)).toEqual(['b', 'a', 'c']);
    expect(moveTarget(['a', 'b', 'c'], 'b', 1)).toEqual(['a', 'c', 'b']);
    expect(moveTarget(['a', 'b'], 'a', -1)).toBeNull();
    expect(moveTarget(['a', 'b'], 'b', 1)).toBeNull();
    expect(moveTarget(['a'], 'x', 1)).toBeNull();
  });
  it('accepts whole weights from 1', () => {
    expect(parseWeight(' 5 ')).toEqual({ value: 5 });
    for (const bad of ['0', '-1', '1.5', '', 'x', '1000001']) expect(parseWeight(bad).error).toBeDefined();
  });
  it('says a target is healthy, cooling down with a countdown, probing or disabled', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(targetStatus(target(), now)).toEqual({ tone: 'ok', label: 'healthy', detail: null });
    const cooling = targetStatus(target({ state: { healthy: false, coolingDownUntil: '2026-01-01T00:00:42Z', lastError: '429', consecutiveFailures: 2 } }), now);
    expect(cooling.label).toBe('cooling down');
    expect(cooling.detail).toMatch(/42s left.*2 failures in a row/);
    expect(targetStatus(target({ state: { healthy: false, coolingDownUntil: '2025-12-31T23:59:00Z', lastError: null, consecutiveFailures: 1 } }), now).label).toBe('probing');
    expect(targetStatus(target({ state: { healthy: false, coolingDownUntil: null, lastError: null, consecutiveFailures: 0 } }), now).label).toBe('unhealthy');
    expect(targetStatus(target({ enabled: false }), now).label).toBe('disabled');
  });
});

describe('targets section', () => {
  const withData = (targets: ServiceTargetFieldsFragment[], canEdit: boolean) => {
    const data = { service: { __typename: 'Service', id: 's1', provider: 'openai', targets } };
    // Every operation is answered at once with the same service.
    const client = new Client({ url: '/graphql', exchanges: [() => (ops$) => pipe(ops$, map((operation) => makeResult(operation, { data })))] });
    return renderToStaticMarkup(
      <Provider value={client}>
        <ServiceTargets serviceId="s1" provider="openai" canEdit={canEdit} />
      </Provider>,
    );
  };
  it('lists targets with masked keys, weight, model map and state; admins get controls', () => {
    const admin = withData([target()], true);
    expect(admin).toMatch(/Backup <span class="nowrap">\(…4321\)/);
    expect(admin).toContain('azure-gpt4o');
    expect(admin).toContain('healthy');
    expect(admin).toContain('Add target');
    expect(admin).toContain('aria-label="Move Backup down"');
    expect(admin).toContain('aria-label="Remove Backup"');
    const member = withData([target()], false);
    expect(member).toContain('(…4321)');
    expect(member).not.toContain('Add target');
    expect(member).not.toContain('Remove');
    expect(member).not.toContain('<input');
  });
  it('explains the empty state', () => {
    expect(withData([], true)).toContain(NO_TARGETS.replace("'", '&#x27;'));
  });
  it('shows nothing on the card without targets', () => {
    expect(renderToStaticMarkup(<TargetsList targets={[]} />)).toBe('');
    expect(renderToStaticMarkup(<TargetsList targets={[target({ enabled: false })]} />)).toContain('disabled');
  });
});
