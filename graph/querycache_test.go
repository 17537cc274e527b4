package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestRefusedQueriesAreNotCached: 60 distinct valid ~1 MB queries refused
// for complexity, and one refused for depth, leave the parsed-query cache
// empty; a query that runs is cached.
func TestRefusedQueriesAreNotCached(t *testing.T) {
	h, cache := newHandler(&Resolver{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Options{
		MaxBodyBytes: 2 << 20, MaxComplexity: 50, MaxDepth: 3,
		// let ~1 MB documents through to validation, as a looser setting would
		Limits: QueryLimits{MaxTokens: 1 << 20, MaxFields: 1 << 20, MaxRepeats: 1 << 20, MaxDirectives: 10},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	long := strings.Repeat("x", 10_000)
	for i := 0; i < 60; i++ {
		var q strings.Builder
		fmt.Fprintf(&q, "query Q%d {", i)
		for j := 0; j < 100; j++ {
			fmt.Fprintf(&q, " %s%d: __typename", long, j)
		}
		q.WriteString(" }")
		if code := postQuery(t, srv.URL, q.String()); code != "COMPLEXITY_LIMIT_EXCEEDED" && code != string(CodeBadUserInput) {
			t.Fatalf("a query of complexity 100: %s", code)
		}
	}
	if code := postQuery(t, srv.URL, "{ __type(name: \"Query\") { fields { type { ofType { name } } } } }"); code == "" {
		t.Fatal("a query 4 deep passed a depth limit of 3")
	}
	if n, size := cache.size(); n != 0 || size != 0 {
		t.Fatalf("refused queries left %d entries, %d bytes in the cache", n, size)
	}
	if code := postQuery(t, srv.URL, "{ __typename }"); code != "" {
		t.Fatalf("a small query: %s", code)
	}
	if n, _ := cache.size(); n != 1 {
		t.Fatalf("a query that ran was not cached: %d entries", n)
	}
}

// postQuery sends query and returns the first error's code, "" if none.
func postQuery(t *testing.T, url, query string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) == 0 {
		return ""
	}
	if code, _ := out.Errors[0].Extensions["code"].(string); code != "" {
		return code
	}
	return "NO_CODE"
}

// TestQueryCacheBounds: the cache never holds more than its bytes or its
// entries, evicts the least recently used, and keeps no document larger
// than its whole bound.
func TestQueryCacheBounds(t *testing.T) {
	doc := &ast.QueryDocument{}
	query := func(i int) string { return fmt.Sprintf("{ a%d: __typename %s}", i, strings.Repeat("b ", 1000)) }

	c := newQueryCache(1000, 1<<20)
	for i := 0; i < 100; i++ {
		c.admit(query(i), doc)
		c.Get(context.Background(), query(0)) // the first stays the most recently used
	}
	n, size := c.size()
	if size > 1<<20 || n < 2 {
		t.Fatalf("%d entries of %d bytes under a bound of 1 MiB", n, size)
	}
	if !c.holds(query(0)) || !c.holds(query(99)) || c.holds(query(1)) {
		t.Error("eviction is not least recently used first")
	}

	c = newQueryCache(3, 1<<30)
	for i := 0; i < 5; i++ {
		c.admit(query(i), doc)
	}
	if n, _ := c.size(); n != 3 {
		t.Errorf("%d entries under a bound of 3", n)
	}

	c = newQueryCache(10, 1000)
	c.admit(query(0), doc)
	if n, _ := c.size(); n != 0 {
		t.Error("kept a document larger than the whole bound")
	}
}
