import type { UsageRecordWhereInput } from './gql/graphql';
import { getToken } from './session';

/** The gateway's usage CSV export for a usage log filter, beside the API. */
export function usageExportURL(where: UsageRecordWhereInput, page: string = window.location.href): string {
  const u = new URL('/api/admin/usage.csv', new URL(__GRAPHQL_URL__, page));
  if (Object.keys(where).length) u.searchParams.set('where', JSON.stringify(where));
  return u.toString();
}

/**
 * Downloads the usage log as CSV. The API takes the session as a bearer
 * header, which a plain link cannot send, so the file is fetched and then
 * saved from memory.
 */
export async function downloadUsageCSV(where: UsageRecordWhereInput): Promise<void> {
  const token = getToken();
  const res = await fetch(usageExportURL(where), { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!res.ok) {
    let detail = `export failed (${res.status})`;
    try {
      detail = ((await res.json()) as { detail?: string }).detail ?? detail;
    } catch {
      // not JSON: keep the status
    }
    throw new Error(detail);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'usage.csv';
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
