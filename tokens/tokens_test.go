package tokens

import (
	"encoding/json"
	"testing"
)

func TestAdd(t *testing.T) {
	cases := []struct {
		name string
		a, b Tokens
		want Tokens
	}{
		{"zero", Tokens{}, Tokens{}, Tokens{}},
		{"every count", Tokens{1, 2, 3, 4, 5}, Tokens{10, 20, 30, 40, 50}, Tokens{11, 22, 33, 44, 55}},
		{"odd counts add as they are", Tokens{InputTokens: 5}, Tokens{InputTokens: -2, CachedInputTokens: 9}, Tokens{InputTokens: 3, CachedInputTokens: 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.a
			got.Add(c.b)
			if got != c.want {
				t.Fatalf("%+v + %+v = %+v, want %+v", c.a, c.b, got, c.want)
			}
		})
	}
}

// TestJSON: the counts keep their names, zero ones are left out, and an
// object without them (an older replica's event) reads as zero.
func TestJSON(t *testing.T) {
	b, err := json.Marshal(Tokens{InputTokens: 7, CacheWriteTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"InputTokens":7,"CacheWriteTokens":2}`; got != want {
		t.Fatalf("marshal = %s, want %s", got, want)
	}
	var back Tokens
	if err := json.Unmarshal([]byte(`{"InputTokens":7,"OutputTokens":3}`), &back); err != nil {
		t.Fatal(err)
	}
	if back != (Tokens{InputTokens: 7, OutputTokens: 3}) {
		t.Fatalf("unmarshal = %+v", back)
	}
}
