package graph

import (
	"cmp"

	"entgo.io/contrib/entgql"
)

// mergeEdges merges pages that one query's parts answered with the same
// order and cursors into the page the whole query would answer: the first
// `first` edges of all of them in order (or the last `last`). more reports
// edges left over past the page's end, which means a next (previous) page.
// before orders two edges as the database orders their nodes.
func mergeEdges[E any](pages [][]E, before func(x, y E) bool, first, last *int) (edges []E, more bool) {
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	edges = make([]E, 0, n)
	heads := make([]int, len(pages))
	for len(edges) < n {
		pick := -1
		for i, p := range pages {
			if heads[i] < len(p) && (pick < 0 || before(p[heads[i]], pages[pick][heads[pick]])) {
				pick = i
			}
		}
		edges = append(edges, pages[pick][heads[pick]])
		heads[pick]++
	}
	switch {
	case first != nil && len(edges) > *first:
		return edges[:*first], true
	case last != nil && len(edges) > *last:
		return edges[len(edges)-*last:], true
	}
	return edges, false
}

// mergedPageInfo is the page info of a merged page: a next (previous)
// page when any part has one or edges were left over past the page's end;
// the caller sets the cursors of the merged edges' ends.
func mergedPageInfo(parts []entgql.PageInfo[int], more bool, first, last *int) entgql.PageInfo[int] {
	var info entgql.PageInfo[int]
	for _, p := range parts {
		info.HasNextPage = info.HasNextPage || p.HasNextPage
		info.HasPreviousPage = info.HasPreviousPage || p.HasPreviousPage
	}
	info.HasNextPage = info.HasNextPage || (more && first != nil)
	info.HasPreviousPage = info.HasPreviousPage || (more && last != nil)
	return info
}

// byThenID orders two nodes by a key, then by id, in a direction, as the
// database orders a page whose cursor holds the key and the id.
func byThenID[K cmp.Ordered](xKey, yKey K, xID, yID int, desc bool) bool {
	c := cmp.Compare(xKey, yKey)
	if c == 0 {
		c = cmp.Compare(xID, yID)
	}
	if desc {
		return c > 0
	}
	return c < 0
}
