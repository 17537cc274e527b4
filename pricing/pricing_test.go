package pricing

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/tokens"
)

func mustLoad(t *testing.T) []Price {
	t.Helper()
	prices, err := Load()
	if err != nil {
		t.Fatalf("Load(): %v", err)
	}
	return prices
}

func TestLoadSortedAndUnique(t *testing.T) {
	prices := mustLoad(t)
	for i := 1; i < len(prices); i++ {
		a, b := prices[i-1], prices[i]
		if a.Provider > b.Provider || (a.Provider == b.Provider && a.Model >= b.Model) {
			t.Errorf("not sorted or duplicate: %s/%s before %s/%s", a.Provider, a.Model, b.Provider, b.Model)
		}
	}
}

// TestCatalogCoversProviders ties the catalog to the providers list: every
// file is a supported provider and every provider but custom has a file.
func TestCatalogCoversProviders(t *testing.T) {
	count := map[string]int{}
	for _, p := range mustLoad(t) {
		count[p.Provider]++
	}
	for provider := range count {
		if err := providers.Validate(provider); err != nil {
			t.Errorf("catalog/%s.yaml: %v", provider, err)
		}
	}
	for _, name := range providers.Names() {
		if name == providers.Custom {
			if count[name] != 0 {
				t.Errorf("custom must have no catalog file; it has %d models", count[name])
			}
			continue
		}
		if count[name] == 0 {
			t.Errorf("provider %q has no models in catalog/%s.yaml", name, name)
		}
	}
}

// TestCatalogPricesSane catches typos that still parse: a missing price on a
// paid provider, a cached price above the uncached one, an embedding with an
// output price.
func TestCatalogPricesSane(t *testing.T) {
	for _, p := range mustLoad(t) {
		id := p.Provider + "/" + p.Model
		if p.InputPerMTok < 0 || p.OutputPerMTok < 0 || p.CachedInputPerMTok < 0 {
			t.Errorf("%s: negative price %+v", id, p)
		}
		if p.Description == "" {
			t.Errorf("%s: no description", id)
		}
		if p.Provider == "ollama" {
			if p.InputPerMTok != 0 || p.OutputPerMTok != 0 || p.CachedInputPerMTok != 0 {
				t.Errorf("%s: local models must be free, got %+v", id, p)
			}
			continue
		}
		if p.InputPerMTok == 0 {
			t.Errorf("%s: input price is zero on a paid provider", id)
		}
		if p.CachedInputPerMTok > p.InputPerMTok {
			t.Errorf("%s: cached input %v costs more than input %v", id, p.CachedInputPerMTok, p.InputPerMTok)
		}
		// Anthropic's rule, on its own catalog and on OpenRouter's: cache
		// writes at 1.25x input (Claude Haiku 3's list price is $0.30, not
		// $0.3125), one-hour writes at 2x.
		if p.Provider == "anthropic" || strings.HasPrefix(p.Model, "anthropic/") {
			write := p.InputPerMTok * 5 / 4
			if p.Model == "claude-3-haiku-20240307" {
				write = 300_000
			}
			if p.CacheWritePerMTok != write || p.CacheWrite1hPerMTok != 2*p.InputPerMTok {
				t.Errorf("%s: cache writes %v and %v, want %v and %v (Anthropic: 1.25x and 2x input %v)",
					id, p.CacheWritePerMTok, p.CacheWrite1hPerMTok, write, 2*p.InputPerMTok, p.InputPerMTok)
			}
		} else if p.CacheWritePerMTok != 0 || p.CacheWrite1hPerMTok != 0 {
			t.Errorf("%s: cache-write prices %v / %v on a provider that does not charge for cache writes", id, p.CacheWritePerMTok, p.CacheWrite1hPerMTok)
		}
		switch p.Kind {
		case KindEmbedding:
			if p.OutputPerMTok != 0 || p.MaxOutputTokens != 0 {
				t.Errorf("%s: embedding with output price %v or max_output_tokens %d", id, p.OutputPerMTok, p.MaxOutputTokens)
			}
		default:
			if p.OutputPerMTok == 0 {
				t.Errorf("%s: output price is zero on a paid %s model", id, p.Kind)
			}
		}
	}
}

func TestCatalogEntries(t *testing.T) {
	byID := map[string]Price{}
	for _, p := range mustLoad(t) {
		byID[p.Provider+"/"+p.Model] = p
	}
	tests := []struct {
		id                    string
		kind                  string
		input, output, cached money.Micros
		write, write1h        money.Micros
		maxOutput             int
	}{
		// Google's examples
		{id: "google/gemini-2.0-flash", kind: KindText, input: 100_000, output: 400_000, cached: 25_000, maxOutput: 8192},
		{id: "google/gemini-2.0-flash-lite", kind: KindText, input: 75_000, output: 300_000, maxOutput: 8192},
		{id: "google/gemini-3-pro-preview", kind: KindText, input: 2_000_000, output: 12_000_000, cached: 200_000, maxOutput: 65536},
		{id: "google/gemini-3-pro-image-preview", kind: KindImage, input: 2_000_000, output: 120_000_000, maxOutput: 32768},
		// the brief's example and the required embedding models
		{id: "openai/gpt-4o", kind: KindText, input: 2_500_000, output: 10_000_000, cached: 1_250_000, maxOutput: 16384},
		{id: "openai/text-embedding-3-small", kind: KindEmbedding, input: 20_000},
		{id: "openai/text-embedding-3-large", kind: KindEmbedding, input: 130_000},
		{id: "cohere/embed-v4.0", kind: KindEmbedding, input: 120_000},
		{id: "google/gemini-embedding-001", kind: KindEmbedding, input: 150_000},
		{id: "mistral/mistral-embed", kind: KindEmbedding, input: 100_000},
		{id: "cohere/command-r7b-12-2024", kind: KindText, input: 37_500, output: 150_000, maxOutput: 4000},
		{id: "ollama/llama3.2", kind: KindText, maxOutput: 8192},
		// Anthropic's price list: writes 1.25x input, one-hour writes 2x
		{id: "anthropic/claude-sonnet-4-5", kind: KindText, input: 3_000_000, output: 15_000_000, cached: 300_000,
			write: 3_750_000, write1h: 6_000_000, maxOutput: 64000},
		{id: "anthropic/claude-3-haiku-20240307", kind: KindText, input: 250_000, output: 1_250_000, cached: 30_000,
			write: 300_000, write1h: 500_000, maxOutput: 4096},
		// OpenRouter reports cache writes without their lifetime; the
		// one-hour price is for budget reservations
		{id: "openrouter/anthropic/claude-sonnet-4.5", kind: KindText, input: 3_000_000, output: 15_000_000, cached: 300_000,
			write: 3_750_000, write1h: 6_000_000, maxOutput: 64000},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			p, ok := byID[tt.id]
			if !ok {
				t.Fatalf("%s missing from the catalog", tt.id)
			}
			if p.Kind != tt.kind || p.InputPerMTok != tt.input || p.OutputPerMTok != tt.output ||
				p.CachedInputPerMTok != tt.cached || p.CacheWritePerMTok != tt.write || p.CacheWrite1hPerMTok != tt.write1h ||
				p.MaxOutputTokens != tt.maxOutput {
				t.Errorf("%s = %+v, want kind %s input %d output %d cached %d writes %d/%d max %d",
					tt.id, p, tt.kind, tt.input, tt.output, tt.cached, tt.write, tt.write1h, tt.maxOutput)
			}
		})
	}
}

func TestLoadRejectsMalformed(t *testing.T) {
	const good = "models:\n  ok-model:\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: 1\n      output: 2\n"
	tests := []struct {
		name  string
		file  string
		data  string
		wants []string // substrings the error must contain
	}{
		{name: "not a number", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: abc\n      output: 1\n",
			wants: []string{"catalog/acme.yaml", `model "m1"`, "[5:14]"}},
		{name: "misspelt field", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n    cost_per_milion_tokens:\n      input: 1\n      output: 1\n",
			wants: []string{"catalog/acme.yaml", `model "m1"`, `unknown field "cost_per_milion_tokens"`}},
		{name: "negative price", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: -1\n      output: 1\n",
			wants: []string{"catalog/acme.yaml", `model "m1"`, "cost_per_million_tokens.input", "negative"}},
		{name: "negative cache-write price", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: 1\n      output: 1\n      cache_write_1h: -2\n",
			wants: []string{`model "m1"`, "cost_per_million_tokens.cache_write_1h", "negative"}},
		{name: "NaN price", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: 1\n      output: .nan\n",
			wants: []string{`model "m1"`, "cost_per_million_tokens.output", "NaN"}},
		{name: "missing output price", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: 1\n",
			wants: []string{`model "m1"`, "cost_per_million_tokens.output is missing"}},
		{name: "missing cost block", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 10\n",
			wants: []string{`model "m1"`, "cost_per_million_tokens is missing"}},
		{name: "empty entry", file: "acme.yaml",
			data:  "models:\n  m1:\n",
			wants: []string{`model "m1"`, "max_output_tokens is required"}},
		{name: "bad kind", file: "acme.yaml",
			data:  "models:\n  m1:\n    kind: video\n    max_output_tokens: 10\n    cost_per_million_tokens:\n      input: 1\n      output: 1\n",
			wants: []string{`model "m1"`, `kind "video"`, "embedding, image, text"}},
		{name: "negative max output", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: -1\n    cost_per_million_tokens:\n      input: 1\n      output: 1\n",
			wants: []string{`model "m1"`, "negative"}},
		{name: "duplicate model", file: "acme.yaml",
			data:  "models:\n  m1:\n    max_output_tokens: 1\n  m1:\n    max_output_tokens: 2\n",
			wants: []string{"catalog/acme.yaml", `"m1" already defined`}},
		{name: "no models key", file: "acme.yaml", data: "modles:\n  m1: {}\n",
			wants: []string{"catalog/acme.yaml", `unknown field "modles"`}},
		{name: "empty file", file: "acme.yaml", data: "",
			wants: []string{"catalog/acme.yaml", "no models"}},
		{name: "broken syntax", file: "acme.yaml", data: "models: {\n",
			wants: []string{"catalog/acme.yaml", "invalid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"a-good.yaml": {Data: []byte(good)},
				tt.file:       {Data: []byte(tt.data)},
			}
			_, err := load(fsys)
			if err == nil {
				t.Fatal("load() = nil error, want one")
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadDefaultsAndOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"zeta.yaml":  {Data: []byte("models:\n  b:\n    max_output_tokens: 5\n    cost_per_million_tokens: {input: 1, output: 2}\n  a:\n    max_output_tokens: 5\n    cost_per_million_tokens: {input: 3, output: 4, cached_input: 0.5}\n")},
		"alpha.yaml": {Data: []byte("models:\n  e:\n    kind: embedding\n    cost_per_million_tokens: {input: 0.02, output: 0}\n")},
		"notes.txt":  {Data: []byte("ignored")},
	}
	got, err := load(fsys)
	if err != nil {
		t.Fatalf("load(): %v", err)
	}
	want := []Price{
		{Provider: "alpha", Model: "e", Kind: KindEmbedding, InputPerMTok: 20_000},
		{Provider: "zeta", Model: "a", Kind: KindText, InputPerMTok: 3_000_000, OutputPerMTok: 4_000_000, CachedInputPerMTok: 500_000, MaxOutputTokens: 5},
		{Provider: "zeta", Model: "b", Kind: KindText, InputPerMTok: 1_000_000, OutputPerMTok: 2_000_000, MaxOutputTokens: 5},
	}
	if !slices.Equal(got, want) {
		t.Errorf("load() =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := load(fstest.MapFS{}); err == nil {
		t.Error("load() of an empty catalog succeeded, want an error")
	}
}

func TestCost(t *testing.T) {
	gpt4o := Price{InputPerMTok: 2_500_000, OutputPerMTok: 10_000_000, CachedInputPerMTok: 1_250_000}
	noCache := Price{InputPerMTok: 2_500_000, OutputPerMTok: 10_000_000}
	opus := Price{InputPerMTok: 15_000_000, OutputPerMTok: 75_000_000}
	sonnet := Price{InputPerMTok: 3_000_000, OutputPerMTok: 15_000_000, CachedInputPerMTok: 300_000,
		CacheWritePerMTok: 3_750_000, CacheWrite1hPerMTok: 6_000_000}
	tests := []struct {
		name  string
		price Price
		usage tokens.Tokens
		want  money.Micros
	}{
		{name: "no usage", price: gpt4o, want: 0},
		{name: "free model", price: Price{}, usage: tokens.Tokens{InputTokens: 1_000_000, OutputTokens: 1_000_000}, want: 0},
		{name: "exact million", price: gpt4o, usage: tokens.Tokens{InputTokens: 1_000_000}, want: 2_500_000},
		{name: "typical request", price: gpt4o, usage: tokens.Tokens{InputTokens: 1000, OutputTokens: 500}, want: 7_500},
		{name: "one token rounds up", price: gpt4o, usage: tokens.Tokens{InputTokens: 1}, want: 3},
		{name: "cheapest token rounds up to one micro", price: Price{InputPerMTok: 20_000}, usage: tokens.Tokens{InputTokens: 1}, want: 1},
		{name: "rounded once, not per term", price: Price{InputPerMTok: 500_000, OutputPerMTok: 500_000},
			usage: tokens.Tokens{InputTokens: 1, OutputTokens: 1}, want: 1},
		{name: "cached at cached price", price: gpt4o, usage: tokens.Tokens{InputTokens: 1000, CachedInputTokens: 400}, want: 2_000},
		{name: "cached without cached price bills as input", price: noCache, usage: tokens.Tokens{InputTokens: 1000, CachedInputTokens: 400}, want: 2_500},
		{name: "cached capped at input", price: gpt4o, usage: tokens.Tokens{InputTokens: 1000, CachedInputTokens: 5000}, want: 1_250},
		{name: "negative counts are zero", price: gpt4o, usage: tokens.Tokens{InputTokens: -5, OutputTokens: -5, CachedInputTokens: -5}, want: 0},
		{name: "negative cached ignored", price: gpt4o, usage: tokens.Tokens{InputTokens: 1000, CachedInputTokens: -400}, want: 2_500},
		{name: "cache writes at the write price", price: sonnet, usage: tokens.Tokens{InputTokens: 1000, CacheWriteTokens: 800}, want: 600 + 3_000},
		{name: "one-hour writes at their price", price: sonnet,
			usage: tokens.Tokens{InputTokens: 1000, CacheWriteTokens: 800, CacheWrite1hTokens: 300}, want: 600 + 1_875 + 1_800},
		{name: "reads, writes and plain input", price: sonnet,
			usage: tokens.Tokens{InputTokens: 10_000, CachedInputTokens: 5_000, CacheWriteTokens: 4_000, OutputTokens: 100}, want: 3_000 + 1_500 + 15_000 + 1_500},
		{name: "writes without a write price bill as input", price: noCache, usage: tokens.Tokens{InputTokens: 1000, CacheWriteTokens: 800}, want: 2_500},
		{name: "one-hour writes without their price bill as writes", price: Price{InputPerMTok: 1_000_000, CacheWritePerMTok: 2_000_000},
			usage: tokens.Tokens{InputTokens: 1000, CacheWriteTokens: 1000, CacheWrite1hTokens: 1000}, want: 2_000},
		{name: "writes capped at the uncached input", price: sonnet,
			usage: tokens.Tokens{InputTokens: 1000, CachedInputTokens: 600, CacheWriteTokens: 900}, want: 180 + 1_500},
		{name: "one-hour writes capped at the writes", price: sonnet,
			usage: tokens.Tokens{InputTokens: 1000, CacheWriteTokens: 100, CacheWrite1hTokens: 900}, want: 2_700 + 600},
		{name: "negative writes ignored", price: sonnet, usage: tokens.Tokens{InputTokens: 1000, CacheWriteTokens: -5, CacheWrite1hTokens: -5}, want: 3_000},
		{name: "product beyond int64", price: opus, usage: tokens.Tokens{InputTokens: 1_000_000_000_000}, want: 15_000_000_000_000},
		{name: "all three terms large", price: opus,
			usage: tokens.Tokens{InputTokens: 2_000_000_000_000, CachedInputTokens: 1_000_000_000_000, OutputTokens: 1_000_000_000_000},
			want:  30_000_000_000_000 + 75_000_000_000_000},
		{name: "max tokens at tiny price", price: Price{InputPerMTok: 1}, usage: tokens.Tokens{InputTokens: math.MaxInt64}, want: 9_223_372_036_855},
		{name: "saturates", price: opus, usage: tokens.Tokens{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64}, want: math.MaxInt64},
		{name: "saturates at max price", price: Price{InputPerMTok: math.MaxInt64, OutputPerMTok: math.MaxInt64},
			usage: tokens.Tokens{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64}, want: math.MaxInt64},
		{name: "just fits", price: Price{InputPerMTok: 1_000_000}, usage: tokens.Tokens{InputTokens: math.MaxInt64}, want: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); got != tt.want {
				t.Errorf("Cost(%+v) = %d, want %d", tt.usage, got, tt.want)
			}
		})
	}
}

// TestCostAtMost checks the budget's worst case: every input token at the
// dearest input price, so that no mix of reads and writes costs more.
func TestCostAtMost(t *testing.T) {
	sonnet := Price{InputPerMTok: 3_000_000, OutputPerMTok: 15_000_000, CachedInputPerMTok: 300_000,
		CacheWritePerMTok: 3_750_000, CacheWrite1hPerMTok: 6_000_000}
	tests := []struct {
		name    string
		price   Price
		in, out int64
		want    money.Micros
	}{
		{"one-hour writes are the dearest", sonnet, 1000, 100, 6_000 + 1_500},
		{"no cache prices", Price{InputPerMTok: 2_500_000, OutputPerMTok: 10_000_000}, 1000, 100, 2_500 + 1_000},
		{"a cached price above input", Price{InputPerMTok: 1_000_000, CachedInputPerMTok: 4_000_000}, 1000, 0, 4_000},
		{"free", Price{}, 1000, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.price.CostAtMost(tt.in, tt.out)
			if got != tt.want {
				t.Fatalf("CostAtMost(%d, %d) = %d, want %d", tt.in, tt.out, got, tt.want)
			}
			// No split of the input among reads and writes costs more.
			for _, u := range []tokens.Tokens{
				{InputTokens: tt.in, OutputTokens: tt.out},
				{InputTokens: tt.in, OutputTokens: tt.out, CachedInputTokens: tt.in},
				{InputTokens: tt.in, OutputTokens: tt.out, CacheWriteTokens: tt.in},
				{InputTokens: tt.in, OutputTokens: tt.out, CacheWriteTokens: tt.in, CacheWrite1hTokens: tt.in},
				{InputTokens: tt.in, OutputTokens: tt.out, CachedInputTokens: tt.in / 3, CacheWriteTokens: tt.in / 3, CacheWrite1hTokens: tt.in / 6},
			} {
				if c := tt.price.Cost(u); c > got {
					t.Errorf("Cost(%+v) = %d is above CostAtMost %d", u, c, got)
				}
			}
		})
	}
}

// TestCostMatchesBigInt checks the 128-bit arithmetic against math/big over
// random prices and counts, including ones whose products overflow int64.
func TestCostMatchesBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	million := big.NewInt(1_000_000)
	maxMicros := big.NewInt(math.MaxInt64)
	for i := range 10_000 {
		limit := int64(1) << (r.IntN(62) + 1)
		p := Price{
			InputPerMTok:        money.Micros(r.Int64N(limit)),
			OutputPerMTok:       money.Micros(r.Int64N(limit)),
			CachedInputPerMTok:  money.Micros(r.Int64N(limit)),
			CacheWritePerMTok:   money.Micros(r.Int64N(limit)),
			CacheWrite1hPerMTok: money.Micros(r.Int64N(limit)),
		}
		u := tokens.Tokens{InputTokens: r.Int64N(limit), OutputTokens: r.Int64N(limit)}
		u.CachedInputTokens = r.Int64N(u.InputTokens + 1)
		u.CacheWriteTokens = r.Int64N(u.InputTokens - u.CachedInputTokens + 1)
		u.CacheWrite1hTokens = r.Int64N(u.CacheWriteTokens + 1)
		if i%4 == 0 {
			p.CachedInputPerMTok = 0
		}
		if i%3 == 0 {
			p.CacheWritePerMTok = 0
		}
		if i%5 == 0 {
			p.CacheWrite1hPerMTok = 0
		}

		cachedPrice := p.CachedInputPerMTok
		if cachedPrice == 0 {
			cachedPrice = p.InputPerMTok
		}
		writePrice := p.CacheWritePerMTok
		if writePrice == 0 {
			writePrice = p.InputPerMTok
		}
		write1hPrice := p.CacheWrite1hPerMTok
		if write1hPrice == 0 {
			write1hPrice = writePrice
		}
		sum := new(big.Int)
		for _, term := range [][2]int64{
			{u.InputTokens - u.CachedInputTokens - u.CacheWriteTokens, int64(p.InputPerMTok)},
			{u.CachedInputTokens, int64(cachedPrice)},
			{u.CacheWriteTokens - u.CacheWrite1hTokens, int64(writePrice)},
			{u.CacheWrite1hTokens, int64(write1hPrice)},
			{u.OutputTokens, int64(p.OutputPerMTok)},
		} {
			sum.Add(sum, new(big.Int).Mul(big.NewInt(term[0]), big.NewInt(term[1])))
		}
		want, rem := new(big.Int).QuoRem(sum, million, new(big.Int))
		if rem.Sign() != 0 {
			want.Add(want, big.NewInt(1))
		}
		if want.Cmp(maxMicros) > 0 {
			want = maxMicros
		}
		if got := p.Cost(u); int64(got) != want.Int64() {
			t.Fatalf("Cost(%+v) with %+v = %d, want %s", u, p, got, want)
		}
	}
}
