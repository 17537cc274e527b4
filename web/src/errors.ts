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

/** What a form says, next to its submit button, of errors at its fields. */
export const CHECK_FIELDS = 'Check the fields marked above.';

/** A duplicate name is CONFLICT without a field: show it at the name
 * field, worded as said (e.g. "A service named “chat” already exists."),
 * and point at it from the form's message. */
export function withConflict(p: Problem, field = 'name', said?: string): Problem {
  if (p.code === 'CONFLICT' && !p.fields[field]) return { ...p, fields: { ...p.fields, [field]: said ?? p.message ?? 'That name is taken.' }, message: CHECK_FIELDS };
  return p;
}

/** The problem once a field changed: its error goes, and the form's
 * message too when it only pointed at field errors and none is left. */
export function clearField(p: Problem, field: string): Problem {
  if (!field || !(field in p.fields)) return p;
  const fields = { ...p.fields };
  delete fields[field];
  const message = p.message === CHECK_FIELDS && Object.keys(fields).length === 0 ? null : p.message;
  return { ...p, fields, message };
}

/** A problem of errors at fields, which the form's message points at. */
export function fieldProblem(fields: Record<string, string>): Problem {
  return { message: CHECK_FIELDS, fields, code: 'BAD_USER_INPUT' };
}

/** A form's onChange: clears the error of the field that changed, named
 * by its name attribute (the API's field name). */
export function clearOnChange(set: (update: (p: Problem) => Problem) => void) {
  return (e: { target: EventTarget }) => {
    const name = e.target instanceof Element ? (e.target.getAttribute('name') ?? '') : '';
    set((p) => clearField(p, name));
  };
}
