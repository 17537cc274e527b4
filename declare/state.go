package declare

import (
	"encoding/json"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/manage"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/secrets"
)

// State is what a gateway has, as a file with every section (the shared
// ones only when the reader may change them) and the IDs the changes
// need. Its items are normalized: defaults spelled out.
type State struct {
	File
	// Organization is the name of the organization applied to.
	Organization string
	// InstanceAdmin: the reader may change API standards and prices.
	InstanceAdmin bool

	PriceIDs   map[string]int // provider/model → ID
	Customized map[string]bool
	CredIDs    map[string]int // provider/name → ID
	CredNames  map[int]string // ID → provider/name
	Keys       map[string]SecretState
	Webhook    SecretState
	ServiceIDs map[string]int
	TargetIDs  map[string]map[string]int // service → credential key → target ID

	// ServiceKeys lists each service's API keys by name: pruning the
	// service deletes them.
	ServiceKeys map[string][]string
	// OwnedCredential is the credential key made from each service's
	// providerApiKey, deleted with the service unless another uses it;
	// OwnersKnown says the reader could tell (the admin API does not).
	OwnedCredential map[string]string
	OwnersKnown     bool
}

// SecretState is what a reader knows of a stored secret: whether one is
// set and either its value (the local reader opens it) or a hint (the API
// shows a provider key's last four characters, a webhook's masked URL).
type SecretState struct {
	Set   bool
	Value string
	Exact bool
	Hint  string
}

// matches reports whether the stored secret is v, as far as the reader
// can tell.
func (s SecretState) matches(v string, hint func(string) string) bool {
	if !s.Set {
		return false
	}
	if s.Exact {
		return s.Value == v
	}
	return s.Hint == hint(v)
}

func lastFour(v string) string { return secrets.LastFour(v) }

// NewState returns an empty state with its maps made.
func NewState() *State {
	return &State{PriceIDs: map[string]int{}, Customized: map[string]bool{}, CredIDs: map[string]int{}, CredNames: map[int]string{},
		Keys: map[string]SecretState{}, ServiceIDs: map[string]int{}, TargetIDs: map[string]map[string]int{},
		ServiceKeys: map[string][]string{}, OwnedCredential: map[string]string{}}
}

// sort puts the state's lists in the order a file lists them: by
// identity, a service's targets in routing order.
func (st *State) sort() {
	slices.SortFunc(st.APIStandards, func(a, b APIStandard) int { return strings.Compare(a.Handle, b.Handle) })
	slices.SortFunc(st.Prices, func(a, b Price) int {
		return strings.Compare(a.Provider+"/"+a.Model, b.Provider+"/"+b.Model)
	})
	slices.SortFunc(st.Credentials, func(a, b Credential) int {
		return strings.Compare(credKey(a.Provider, a.Name), credKey(b.Provider, b.Name))
	})
	slices.SortFunc(st.Services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
}

// roundUSD makes an amount exactly what Sluice stores.
func roundUSD(v USD) USD { return USD(money.FromUSD(float64(v)).USD()) }

func roundUSDp(v *USD) *USD {
	if v == nil {
		return nil
	}
	r := roundUSD(*v)
	return &r
}

func boolp(b bool) *bool { return &b }

func orTrue(b *bool) *bool {
	if b == nil {
		return boolp(true)
	}
	return b
}

// jsonMap reads m as JSON does, so that numbers compare alike whether
// they came from YAML or the database; empty is nil.
func jsonMap(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return m
	}
	return out
}

// normalLimits spells out limits: nil is no limits.
func normalLimits(l *Limits) Limits {
	if l == nil {
		return Limits{}
	}
	return Limits{RPM: l.RPM, TPM: l.TPM, Concurrency: l.Concurrency,
		CostHourWarn: roundUSDp(l.CostHourWarn), CostHourBlock: roundUSDp(l.CostHourBlock),
		CostDayWarn: roundUSDp(l.CostDayWarn), CostDayBlock: roundUSDp(l.CostDayBlock),
		CostMonthWarn: roundUSDp(l.CostMonthWarn), CostMonthBlock: roundUSDp(l.CostMonthBlock),
		CostTotalBlock: roundUSDp(l.CostTotalBlock)}
}

// compactLimits is nil for no limits, as a file writes it.
func compactLimits(l Limits) *Limits {
	if l == (Limits{}) {
		return nil
	}
	return &l
}

func defaultStandard(provider string) string {
	if p, ok := providers.Lookup(provider); ok {
		return p.APIStandard
	}
	return ""
}

// Normal forms: every default spelled out, amounts rounded as stored, so
// that a file and a state compare field by field.

func normalPrice(p Price) Price {
	p.InputPerMtok, p.OutputPerMtok = roundUSD(p.InputPerMtok), roundUSD(p.OutputPerMtok)
	p.CachedInputPerMtok, p.CacheWritePerMtok, p.CacheWrite1hPerMtok = roundUSDp(p.CachedInputPerMtok), roundUSDp(p.CacheWritePerMtok), roundUSDp(p.CacheWrite1hPerMtok)
	if p.Kind == "" {
		p.Kind = "text"
	}
	return p
}

func normalCredential(c Credential) Credential {
	if c.DisplayName == "" {
		c.DisplayName = c.Name
	}
	if c.APIStandard == "" {
		c.APIStandard = defaultStandard(c.Provider)
	}
	c.Active = orTrue(c.Active)
	return c
}

// normalCapture is c with its defaults filled in; nil when it captures
// nothing.
func normalCapture(c *schema.BodyCapture) *schema.BodyCapture {
	if c == nil || c.Mode == schema.CaptureOff {
		return nil
	}
	n := *c
	n.Mode = schema.CaptureMode(strings.ToUpper(string(n.Mode)))
	if n.MaxBytes == 0 {
		n.MaxBytes = schema.DefaultCaptureMaxBytes
	}
	if n.RetentionDays == 0 {
		n.RetentionDays = schema.DefaultCaptureRetentionDays
	}
	if len(n.Redact) == 0 {
		n.Redact = nil
	}
	return &n
}

// captureInput is the input that makes a service's capture c (nil: off).
func captureInput(c *schema.BodyCapture) *manage.BodyCaptureInput {
	if c == nil {
		return &manage.BodyCaptureInput{Mode: schema.CaptureOff}
	}
	return &manage.BodyCaptureInput{Mode: c.Mode, SamplePercent: &c.SamplePercent, MaxBytes: &c.MaxBytes,
		RetentionDays: &c.RetentionDays, Redact: append([]string{}, c.Redact...)}
}

func normalService(s Service) Service {
	if s.Models == nil {
		s.Models = []string{}
	}
	s.Active = orTrue(s.Active)
	s.RequestDefaults = jsonMap(s.RequestDefaults)
	s.BodyCapture = normalCapture(s.BodyCapture)
	l := normalLimits(s.Limits)
	s.Limits = &l
	ts := make([]Target, len(s.Targets))
	for i, t := range s.Targets {
		if t.Provider == "" {
			t.Provider = s.Provider
		}
		if t.Weight == 0 {
			t.Weight = 1
		}
		t.Enabled = orTrue(t.Enabled)
		if len(t.ModelMap) == 0 {
			t.ModelMap = nil
		}
		ts[i] = t
	}
	s.Targets = ts
	return s
}

func normalSettings(s *Settings) Settings {
	if s == nil {
		return Settings{AllowOverwrite: boolp(true)}
	}
	return Settings{AllowOverwrite: orTrue(s.AllowOverwrite), AlertWebhookURL: s.AlertWebhookURL}
}

// Compact forms: defaults left out, as Export writes them.

func compactPrice(p Price) Price {
	if p.Kind == "text" {
		p.Kind = ""
	}
	return p
}

func compactCredential(c Credential) Credential {
	if c.DisplayName == c.Name {
		c.DisplayName = ""
	}
	if c.APIStandard == defaultStandard(c.Provider) {
		c.APIStandard = ""
	}
	if c.Active != nil && *c.Active {
		c.Active = nil
	}
	return c
}

func compactService(s Service) Service {
	if len(s.Models) == 0 {
		s.Models = nil
	}
	if s.Active != nil && *s.Active {
		s.Active = nil
	}
	if s.Limits != nil {
		s.Limits = compactLimits(*s.Limits)
	}
	ts := slices.Clone(s.Targets)
	for i, t := range ts {
		if t.Provider == s.Provider {
			t.Provider = ""
		}
		if t.Weight == 1 {
			t.Weight = 0
		}
		if t.Enabled != nil && *t.Enabled {
			t.Enabled = nil
		}
		ts[i] = t
	}
	s.Targets = ts
	return s
}

func compactSettings(s Settings) *Settings {
	if s.AllowOverwrite != nil && *s.AllowOverwrite {
		s.AllowOverwrite = nil
	}
	return &s
}
