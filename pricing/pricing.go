// Package pricing is the built-in price catalog: per-provider list prices
// embedded in the binary, used to seed the editable ModelPrice table and to
// turn token usage into integer micro-USD cost. Prices live in YAML under
// catalog/{provider}.yaml so updating a price is a data change, not a code
// change.
package pricing

import (
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"math/bits"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
)

// Model kinds. The proxy and the dashboard treat them differently (embeddings
// have no output, image models bill image tokens), so a catalog entry must
// name one of these.
const (
	KindText      = "text"
	KindImage     = "image"
	KindEmbedding = "embedding"
)

// kinds lists the accepted kinds for validation messages.
var kinds = []string{KindEmbedding, KindImage, KindText}

//go:embed catalog/*.yaml
var catalog embed.FS

// Price is one model's list price. Per-million-token prices are held as
// micro-USD per million tokens, so a $2.50/MTok price is 2_500_000 and even
// sub-cent prices stay exact integers.
type Price struct {
	// Provider is the catalog file's name, a providers package name.
	Provider string
	// Model is the model ID as clients send it.
	Model string
	// Description is shown next to the model in /services and the dashboard.
	Description string
	// Kind is KindText, KindImage or KindEmbedding.
	Kind string
	// InputPerMTok is the price of one million uncached input tokens.
	InputPerMTok money.Micros
	// OutputPerMTok is the price of one million output tokens (image tokens
	// for image models; zero for embeddings).
	OutputPerMTok money.Micros
	// CachedInputPerMTok is the price of one million cache-hit input tokens;
	// zero means the provider has no cached price and InputPerMTok applies.
	CachedInputPerMTok money.Micros
	// CacheWritePerMTok is the price of one million input tokens written to
	// the provider's prompt cache (Anthropic charges 1.25x input for its
	// five-minute cache); zero means InputPerMTok applies.
	CacheWritePerMTok money.Micros
	// CacheWrite1hPerMTok is the price of one million input tokens written
	// to a one-hour prompt cache (Anthropic: 2x input); zero means
	// CacheWritePerMTok applies.
	CacheWrite1hPerMTok money.Micros
	// MaxOutputTokens is the most a single response can produce. Budget
	// reservation uses it as the worst case when a request sets no max_tokens.
	MaxOutputTokens int
}

// Cost prices u in micro-USD with integer math only: the products are summed
// in 128 bits and divided by one million once, rounding up, so many small
// requests never add up to less than the provider charges. Cached tokens are
// billed at CachedInputPerMTok and cache writes at CacheWritePerMTok (or
// CacheWrite1hPerMTok) where the model has them, else as plain input.
// Negative counts are treated as zero, and the cached and written parts are
// capped at what is left of InputTokens, since usage comes from upstream
// bodies that may be odd. A result beyond int64 saturates at math.MaxInt64.
func (p Price) Cost(u tokens.Tokens) money.Micros {
	in := max(u.InputTokens, 0)
	cached := min(max(u.CachedInputTokens, 0), in)
	written := min(max(u.CacheWriteTokens, 0), in-cached)
	written1h := min(max(u.CacheWrite1hTokens, 0), written)
	out := max(u.OutputTokens, 0)
	cachedPrice := cmp.Or(p.CachedInputPerMTok, p.InputPerMTok)
	writePrice := cmp.Or(p.CacheWritePerMTok, p.InputPerMTok)
	write1hPrice := cmp.Or(p.CacheWrite1hPerMTok, writePrice)

	var hi, lo uint64
	add := func(tokens int64, price money.Micros) {
		h, l := bits.Mul64(uint64(tokens), uint64(max(price, 0)))
		var carry uint64
		lo, carry = bits.Add64(lo, l, 0)
		hi += h + carry // cannot overflow: each product < 2^126
	}
	add(in-cached-written, p.InputPerMTok)
	add(cached, cachedPrice)
	add(written-written1h, writePrice)
	add(written1h, write1hPrice)
	add(out, p.OutputPerMTok)

	const perMillion = 1_000_000
	if hi >= perMillion { // the quotient would not fit in 64 bits
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, perMillion)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return money.Micros(q)
}

// CostAtMost is the most in input and out output tokens can cost, for a
// budget reservation: every input token at the dearest input price, since
// a request does not say which part the provider will read from or write
// to its cache, and a cache write costs more than plain input.
func (p Price) CostAtMost(in, out int64) money.Micros {
	worst := p
	worst.InputPerMTok = max(p.InputPerMTok, p.CachedInputPerMTok, p.CacheWritePerMTok, p.CacheWrite1hPerMTok)
	return worst.Cost(tokens.Tokens{InputTokens: in, OutputTokens: out})
}

// Load parses every embedded catalog file and returns the prices sorted by
// provider, then model. It fails on the first bad entry, naming the file and
// model, so a broken catalog is caught by tests rather than at startup.
func Load() ([]Price, error) {
	sub, err := fs.Sub(catalog, "catalog")
	if err != nil {
		return nil, fmt.Errorf("pricing: open embedded catalog: %w", err)
	}
	return load(sub)
}

// load reads every *.yaml file at the root of fsys; tests feed it broken
// catalogs through fstest.MapFS.
func load(fsys fs.FS) ([]Price, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("pricing: list catalog files: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("pricing: catalog has no *.yaml files")
	}
	var prices []Price
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("pricing: read catalog/%s: %w", name, err)
		}
		provider := strings.TrimSuffix(path.Base(name), ".yaml")
		ps, err := parseFile(provider, data)
		if err != nil {
			return nil, fmt.Errorf("pricing: catalog/%s: %w", name, err)
		}
		prices = append(prices, ps...)
	}
	slices.SortFunc(prices, func(a, b Price) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Model, b.Model))
	})
	return prices, nil
}

// catalogFile is the file shape of model_config/{provider}.yaml.
// Models are kept as nodes so each one is decoded on its own and an error can
// name the model while keeping the file's line numbers.
type catalogFile struct {
	Models map[string]ast.Node `yaml:"models"`
}

type catalogModel struct {
	Description     string       `yaml:"description"`
	Kind            string       `yaml:"kind"`
	MaxOutputTokens int          `yaml:"max_output_tokens"`
	Cost            *catalogCost `yaml:"cost_per_million_tokens"`
}

// catalogCost uses pointers so a missing price is an error rather than a
// silent free model.
type catalogCost struct {
	Input        *float64 `yaml:"input"`
	Output       *float64 `yaml:"output"`
	CachedInput  *float64 `yaml:"cached_input"`
	CacheWrite   *float64 `yaml:"cache_write"`
	CacheWrite1h *float64 `yaml:"cache_write_1h"`
}

// parseFile decodes one provider's catalog strictly: unknown keys are refused
// so a misspelt field cannot silently drop a price.
func parseFile(provider string, data []byte) ([]Price, error) {
	var f catalogFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(f.Models) == 0 {
		return nil, fmt.Errorf("no models under the top-level \"models\" key")
	}
	names := make([]string, 0, len(f.Models))
	for name := range f.Models {
		names = append(names, name)
	}
	slices.Sort(names) // report the same first error on every run
	prices := make([]Price, 0, len(names))
	for _, name := range names {
		p, err := parseModel(provider, name, f.Models[name])
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", name, err)
		}
		prices = append(prices, p)
	}
	return prices, nil
}

func parseModel(provider, name string, node ast.Node) (Price, error) {
	if strings.TrimSpace(name) == "" {
		return Price{}, fmt.Errorf("model name is empty")
	}
	var m catalogModel
	if node != nil {
		if err := yaml.NodeToValue(node, &m, yaml.DisallowUnknownField()); err != nil {
			return Price{}, fmt.Errorf("invalid entry: %w", err)
		}
	}
	p := Price{Provider: provider, Model: name, Description: m.Description, Kind: cmp.Or(m.Kind, KindText), MaxOutputTokens: m.MaxOutputTokens}
	if !slices.Contains(kinds, p.Kind) {
		return Price{}, fmt.Errorf("kind %q is not one of %s", p.Kind, strings.Join(kinds, ", "))
	}
	switch {
	case p.MaxOutputTokens < 0:
		return Price{}, fmt.Errorf("max_output_tokens %d is negative", p.MaxOutputTokens)
	case p.MaxOutputTokens == 0 && p.Kind != KindEmbedding:
		return Price{}, fmt.Errorf("max_output_tokens is required for %s models (budget reservation needs a worst case)", p.Kind)
	}
	if m.Cost == nil {
		return Price{}, fmt.Errorf("cost_per_million_tokens is missing")
	}
	var err error
	if p.InputPerMTok, err = parsePrice("input", m.Cost.Input, true); err != nil {
		return Price{}, err
	}
	if p.OutputPerMTok, err = parsePrice("output", m.Cost.Output, true); err != nil {
		return Price{}, err
	}
	if p.CachedInputPerMTok, err = parsePrice("cached_input", m.Cost.CachedInput, false); err != nil {
		return Price{}, err
	}
	if p.CacheWritePerMTok, err = parsePrice("cache_write", m.Cost.CacheWrite, false); err != nil {
		return Price{}, err
	}
	if p.CacheWrite1hPerMTok, err = parsePrice("cache_write_1h", m.Cost.CacheWrite1h, false); err != nil {
		return Price{}, err
	}
	return p, nil
}

// parsePrice converts one cost_per_million_tokens field to micro-USD per
// million tokens.
func parsePrice(field string, usd *float64, required bool) (money.Micros, error) {
	if usd == nil {
		if required {
			return 0, fmt.Errorf("cost_per_million_tokens.%s is missing", field)
		}
		return 0, nil
	}
	m, err := money.ParseUSD(*usd)
	if err != nil {
		return 0, fmt.Errorf("cost_per_million_tokens.%s: %w", field, err)
	}
	return m, nil
}
