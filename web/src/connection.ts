/** The nodes of a Relay connection, without the null edges the schema allows. */
export function nodes<T>(conn: { edges?: readonly ({ node?: T | null } | null)[] | null } | null | undefined): T[] {
  return (conn?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
}
