package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestKeySearchUsesIndexes: among 3,000 keys of one organization, on each
// dialect the search's statement reads the name and display-prefix
// indexes, not every key.
func TestKeySearchUsesIndexes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		org := db.Client.Organization.Create().SetName("o").SaveX(ctx)
		const keys = 3000
		for i := 0; i < keys; i += 500 {
			bulk := make([]*ent.APIKeyCreate, 0, 500)
			for j := i; j < i+500; j++ {
				bulk = append(bulk, db.Client.APIKey.Create().SetOrganizationID(org.ID).SetName(fmt.Sprintf("key-%05d", j)).
					SetKeyHash(fmt.Sprintf("h%d", j)).SetKeyPrefix(fmt.Sprintf("sk_%04d", j)).SetKeyLastFour("abcd").SetIsManagementKey(true))
			}
			db.Client.APIKey.CreateBulk(bulk...).ExecX(ctx)
		}
		if _, err := db.SQL.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"front", "sk_ab12", "sk_ab12cdefghijklmnop"} {
			sel := sql.Dialect(db.Dialect).Select(apikey.FieldID).From(sql.Table(apikey.Table))
			sel.Where(sql.EQ(sel.C(apikey.FieldOrganizationID), org.ID))
			keySearch(s)(sel)
			q, args := sel.Query()
			explain := "EXPLAIN QUERY PLAN "
			conn, err := db.SQL.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if db.Dialect == dialect.Postgres {
				explain = "EXPLAIN "
			}
			rows, err := conn.QueryContext(ctx, explain+q, args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			var plan []string
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
			}
			rows.Close()
			conn.Close()
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, "apikey_organization_id_key_prefix") || !strings.Contains(text, "apikey_organization_id_name") ||
				strings.Contains(text, "SCAN api_keys\n") || strings.HasSuffix(text, "SCAN api_keys") || strings.Contains(text, "Seq Scan") {
				t.Fatalf("search %q reads the table, not the indexes:\n%s\n%s", s, q, text)
			}
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"abc", "abd", true},
		{"sk_", "sk`", true},
		{"é", "ê", true},
		{"a\uD7FF", "a\uE000", true},
		{"a\U0010FFFF", "", false},
	} {
		got, ok := prefixEnd(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
