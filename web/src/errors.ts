import type { CombinedError } from 'urql';

/** What the UI shows for a failed operation: a message for the form and
 * messages next to the fields the API named (extensions.field). */
export interface Problem {
  message: string | null;
  fields: Record<string, string>;
  code: string | null;
}

export const noProblem: Problem = { message: null, fields: {}, code: null };

export function describeError(error: CombinedError | undefined | null): Problem {
  if (!error) return noProblem;
  if (error.networkError && error.graphQLErrors.length === 0) {
    return { message: 'The gateway did not answer. Check that it is running, then try again.', fields: {}, code: 'NETWORK' };
  }
  const fields: Record<string, string> = {};
  const general: string[] = [];
  let code: string | null = null;
  for (const e of error.graphQLErrors) {
    const ext = e.extensions ?? {};
    code ??= typeof ext.code === 'string' ? ext.code : null;
    const field = typeof ext.field === 'string' ? ext.field : null;
    if (field && !fields[field]) fields[field] = e.message;
    else general.push(e.message);
  }
  return { message: general.length ? general.join(' ') : null, fields, code };
}

export function isUnauthenticated(error: CombinedError): boolean {
  return error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') || error.response?.status === 401;
}

/** A duplicate name is CONFLICT without a field: show it at the name field. */
export function withConflict(p: Problem, field = 'name'): Problem {
  if (p.code === 'CONFLICT' && !p.fields[field]) return { ...p, fields: { ...p.fields, [field]: p.message ?? 'That name is taken.' }, message: null };
  return p;
}
