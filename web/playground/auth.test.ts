import { describe, expect, it } from 'vitest';
import { websocketURL, withLogin } from './auth';

describe('withLogin', () => {
  it.each([
    ['adds the stored token', {}, 'tok', { Authorization: 'Bearer tok' }],
    ['keeps the typed headers', { 'X-Trace': '1' }, 'tok', { 'X-Trace': '1', Authorization: 'Bearer tok' }],
    ['a typed Authorization wins', { Authorization: 'Bearer typed' }, 'tok', { Authorization: 'Bearer typed' }],
    ['in any case', { authorization: 'Bearer typed' }, 'tok', { authorization: 'Bearer typed' }],
    ['nothing without a token', { 'X-Trace': '1' }, null, { 'X-Trace': '1' }],
    ['no headers at all', undefined, null, {}],
  ] as const)('%s', (_, headers, token, want) => {
    expect(withLogin(headers, token)).toEqual(want);
  });
});

describe('websocketURL', () => {
  it.each([
    ['http://gw.example:8080/playground', 'ws://gw.example:8080/graphql'],
    ['https://gw.example/playground/', 'wss://gw.example/graphql'],
  ])('%s', (page, want) => {
    expect(websocketURL('/graphql', page)).toBe(want);
  });
});
