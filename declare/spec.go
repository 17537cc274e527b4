// Package declare is configuration as code: a YAML file (sluice.yaml)
// names the services, provider credentials, routing targets, limits,
// prices, settings and API standards a gateway should have; Plan compares
// it with what the gateway has and lists the changes field by field; Apply
// makes them, through the admin GraphQL API or on the local database; and
// Export writes what a gateway has as such a file. Provider keys never
// appear in the file: it names the environment variable or file that
// holds each one.
package declare

import (
	"fmt"
	"github.com/sluicehq/sluice/ent/schema"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
)

// File is a sluice.yaml. A section left out is not managed: apply neither
// changes nor prunes what it would name. An empty section (services: [])
// is managed and, with prune, empties it.
type File struct {
	APIStandards []APIStandard `yaml:"apiStandards,omitempty"`
	Prices       []Price       `yaml:"prices,omitempty"`
	Settings     *Settings     `yaml:"settings,omitempty"`
	Limits       *Limits       `yaml:"limits,omitempty"`
	Credentials  []Credential  `yaml:"credentials,omitempty"`
	Services     []Service     `yaml:"services,omitempty"`

	// present names the sections the file has.
	present map[string]bool
	// lines finds the line of a path in the source.
	lines *ast.File
	name  string
}

// The sections of a file, in the order they are written and applied.
const (
	SectionAPIStandards = "apiStandards"
	SectionPrices       = "prices"
	SectionSettings     = "settings"
	SectionLimits       = "limits"
	SectionCredentials  = "credentials"
	SectionServices     = "services"
)

// Has reports whether the file has the section.
func (f *File) Has(section string) bool { return f.present[section] }

// Shared reports whether the file manages what every organization shares
// (API standards, prices), which only an instance admin may change.
func (f *File) Shared() bool { return f.Has(SectionAPIStandards) || f.Has(SectionPrices) }

// APIStandard says how requests authenticate upstream; shared by every
// organization. Identity: handle.
type APIStandard struct {
	Handle      string `yaml:"handle"`
	Description string `yaml:"description"`
	KeyMethod   string `yaml:"keyMethod"`
	KeyField    string `yaml:"keyField,omitempty"`
}

// Price is one model's price; shared by every organization. Identity:
// provider and model. Amounts are USD per million tokens.
type Price struct {
	Provider            string `yaml:"provider"`
	Model               string `yaml:"model"`
	InputPerMtok        USD    `yaml:"inputPerMtok"`
	OutputPerMtok       USD    `yaml:"outputPerMtok"`
	CachedInputPerMtok  *USD   `yaml:"cachedInputPerMtok,omitempty"`
	CacheWritePerMtok   *USD   `yaml:"cacheWritePerMtok,omitempty"`
	CacheWrite1hPerMtok *USD   `yaml:"cacheWrite1hPerMtok,omitempty"`
	Kind                string `yaml:"kind,omitempty"`
	MaxOutputTokens     int    `yaml:"maxOutputTokens,omitempty"`
	Description         string `yaml:"description,omitempty"`
}

// Settings are the organization's settings.
type Settings struct {
	// AllowOverwrite lets calls set their own inference parameters
	// (default true).
	AllowOverwrite *bool `yaml:"allowOverwrite,omitempty"`
	// AlertWebhookURL, whose path may be a secret, is a reference too.
	AlertWebhookURL *Secret `yaml:"alertWebhookUrl,omitempty"`
}

// Limits are cost (USD) and pace limits; one left out is no limit.
type Limits struct {
	RPM            *int `yaml:"rpm,omitempty"`
	TPM            *int `yaml:"tpm,omitempty"`
	Concurrency    *int `yaml:"concurrency,omitempty"`
	CostHourWarn   *USD `yaml:"costHourWarn,omitempty"`
	CostHourBlock  *USD `yaml:"costHourBlock,omitempty"`
	CostDayWarn    *USD `yaml:"costDayWarn,omitempty"`
	CostDayBlock   *USD `yaml:"costDayBlock,omitempty"`
	CostMonthWarn  *USD `yaml:"costMonthWarn,omitempty"`
	CostMonthBlock *USD `yaml:"costMonthBlock,omitempty"`
	CostTotalBlock *USD `yaml:"costTotalBlock,omitempty"`
}

// Credential is an account at a provider. Identity: provider and name
// (the account key).
type Credential struct {
	Name        string `yaml:"name"`
	Provider    string `yaml:"provider"`
	DisplayName string `yaml:"displayName,omitempty"`
	BaseURL     string `yaml:"baseUrl,omitempty"`
	APIStandard string `yaml:"apiStandard,omitempty"`
	Active      *bool  `yaml:"active,omitempty"`
	// APIKey names where the provider key is read; left out, the stored
	// key is left as it is.
	APIKey *Secret `yaml:"apiKey,omitempty"`
}

// Service is a service of the organization. Identity: name.
type Service struct {
	Name        string `yaml:"name"`
	Provider    string `yaml:"provider"`
	Description string `yaml:"description,omitempty"`
	// Credential is the name of a credential of the service's provider.
	Credential          string         `yaml:"credential,omitempty"`
	Models              []string       `yaml:"models,omitempty"`
	AllowUnpricedModels bool           `yaml:"allowUnpricedModels,omitempty"`
	Active              *bool          `yaml:"active,omitempty"`
	RequestDefaults     map[string]any `yaml:"requestDefaults,omitempty"`
	Limits              *Limits        `yaml:"limits,omitempty"`
	// BodyCapture keeps request and response bodies; left out, none are.
	BodyCapture *schema.BodyCapture `yaml:"bodyCapture,omitempty"`
	// Targets, in routing order; none means the service calls its
	// credential.
	Targets []Target `yaml:"targets,omitempty"`
}

// Target is one credential a service routes to. Identity within its
// service: the credential's provider and name.
type Target struct {
	Credential string `yaml:"credential"`
	// Provider of the credential, when not the service's.
	Provider string            `yaml:"provider,omitempty"`
	Weight   int               `yaml:"weight,omitempty"`
	Enabled  *bool             `yaml:"enabled,omitempty"`
	ModelMap map[string]string `yaml:"modelMap,omitempty"`
}

// USD is an amount of US dollars, written as a plain decimal number.
type USD float64

// MarshalYAML writes the amount in decimal, never in exponent form.
func (u USD) MarshalYAML() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(u), 'f', -1, 64)), nil
}

// UnmarshalYAML reads any number YAML writes, exponent form included, so
// that "1e-7" is an amount (checked like any other) rather than a value
// the decoder cannot assign; anything else is refused at its line.
func (u *USD) UnmarshalYAML(node ast.Node) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(node.String()), 64)
	if err != nil {
		pos := node.GetToken().Position
		return fmt.Errorf("[%d:%d] not an amount in USD: %.40s", pos.Line, pos.Column, node.String())
	}
	*u = USD(v)
	return nil
}

// Secret is where a secret is read: an environment variable or a file
// (its content, surrounding white space trimmed). The value itself is
// never in the file.
type Secret struct {
	Env  string `yaml:"env,omitempty"`
	File string `yaml:"file,omitempty"`
}

// String names the reference, as plans show it.
func (s Secret) String() string {
	if s.Env != "" {
		return "env " + s.Env
	}
	return "file " + s.File
}

// Resolve reads the secret through getenv or the file system.
func (s Secret) Resolve(getenv func(string) string) (string, error) {
	if s.Env != "" {
		v := getenv(s.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", s.File, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", s.File)
	}
	return v, nil
}

// ValidationError is a problem in the file, at a line.
type ValidationError struct {
	Name  string // the file's name
	Line  int    // 0 when unknown
	Field string // e.g. services[1].provider
	Msg   string
}

func (e *ValidationError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.Name, e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Name, e.Field, e.Msg)
}

// Load reads and checks a file; name is used in errors. Unknown fields,
// values of the wrong type and broken rules are errors naming the line
// and the field.
func Load(name string, data []byte) (*File, error) {
	f := &File{}
	if err := yaml.UnmarshalWithOptions(data, f, yaml.Strict()); err != nil {
		msg := strings.TrimSpace(yaml.FormatError(err, false, false))
		if m := position.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s:%s: %s", name, m[1], m[2], m[3])
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	tree, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f.lines, f.name = tree, name
	f.present = map[string]bool{}
	if len(tree.Docs) > 0 {
		if m, ok := tree.Docs[0].Body.(*ast.MappingNode); ok {
			for _, v := range m.Values {
				f.present[v.Key.GetToken().Value] = true
			}
		}
	}
	if err := f.validate(name); err != nil {
		return nil, err
	}
	return f, nil
}

// position reads the "[line:column] message" of the YAML library's errors.
var position = regexp.MustCompile(`^\[(\d+):(\d+)\] (.*)$`)

// LoadFile reads the file at path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// line returns the line of a field given as a path such as
// services[1].provider, or 0.
func (f *File) line(field string) int {
	if f.lines == nil {
		return 0
	}
	for p := field; p != ""; {
		if path, err := yaml.PathString("$." + p); err == nil {
			if n, err := path.FilterFile(f.lines); err == nil && n != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// checker collects the first problem of a validation.
type checker struct {
	f    *File
	name string
	err  error
}

func (c *checker) failf(field, format string, args ...any) {
	if c.err == nil {
		c.err = &ValidationError{Name: c.name, Line: c.f.line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
}

func (c *checker) required(field, v string) {
	if strings.TrimSpace(v) == "" {
		c.failf(field, "is required")
	}
}

func (c *checker) usd(field string, v *USD) {
	if v == nil {
		return
	}
	if _, err := money.ParseUSD(float64(*v)); err != nil {
		c.failf(field, "%v", err)
	}
}

func (c *checker) positive(field string, v *int) {
	if v != nil && *v <= 0 {
		c.failf(field, "must be a whole number above 0")
	}
}

func (c *checker) provider(field, v string) {
	c.required(field, v)
	if v != "" {
		if err := providers.Validate(v); err != nil {
			c.failf(field, "%v", err)
		}
	}
}

func (c *checker) secret(field string, s *Secret) {
	if s == nil {
		return
	}
	if (s.Env == "") == (s.File == "") {
		c.failf(field, "give env: VARIABLE or file: /path, exactly one (the secret itself never goes in the file)")
	}
}

func (c *checker) limits(field string, l *Limits) {
	if l == nil {
		return
	}
	c.positive(field+".rpm", l.RPM)
	c.positive(field+".tpm", l.TPM)
	c.positive(field+".concurrency", l.Concurrency)
	for _, u := range []struct {
		name string
		v    *USD
	}{{"costHourWarn", l.CostHourWarn}, {"costHourBlock", l.CostHourBlock}, {"costDayWarn", l.CostDayWarn},
		{"costDayBlock", l.CostDayBlock}, {"costMonthWarn", l.CostMonthWarn}, {"costMonthBlock", l.CostMonthBlock},
		{"costTotalBlock", l.CostTotalBlock}} {
		c.usd(field+"."+u.name, u.v)
	}
}

// unique reports a second use of one identity in a section; seen maps
// each identity to the path that first named it.
func (c *checker) unique(seen map[string]string, key, path, what string) {
	if prev, dup := seen[key]; dup {
		c.failf(path, "%s is named twice (also at line %d)", what, c.f.line(prev))
		return
	}
	seen[key] = path
}

func (f *File) validate(name string) error {
	c := &checker{f: f, name: name}
	seen := map[string]string{}
	for i, s := range f.APIStandards {
		p := fmt.Sprintf("apiStandards[%d]", i)
		c.required(p+".handle", s.Handle)
		c.required(p+".description", s.Description)
		switch s.KeyMethod {
		case "auth_bearer", "auth_apikey", "query_param":
			c.required(p+".keyField", s.KeyField)
		case "none":
		default:
			c.failf(p+".keyMethod", "%q: use auth_bearer, auth_apikey, query_param or none", s.KeyMethod)
		}
		c.unique(seen, s.Handle, p+".handle", fmt.Sprintf("API standard %q", s.Handle))
	}
	seen = map[string]string{}
	for i, pr := range f.Prices {
		p := fmt.Sprintf("prices[%d]", i)
		c.provider(p+".provider", pr.Provider)
		c.required(p+".model", pr.Model)
		in, out := pr.InputPerMtok, pr.OutputPerMtok
		c.usd(p+".inputPerMtok", &in)
		c.usd(p+".outputPerMtok", &out)
		c.usd(p+".cachedInputPerMtok", pr.CachedInputPerMtok)
		c.usd(p+".cacheWritePerMtok", pr.CacheWritePerMtok)
		c.usd(p+".cacheWrite1hPerMtok", pr.CacheWrite1hPerMtok)
		switch pr.Kind {
		case "", "text", "image", "embedding":
		default:
			c.failf(p+".kind", "%q: use text, image or embedding", pr.Kind)
		}
		if pr.MaxOutputTokens < 0 {
			c.failf(p+".maxOutputTokens", "must not be negative")
		}
		c.unique(seen, pr.Provider+"/"+pr.Model, p+".model", fmt.Sprintf("price of %s/%s", pr.Provider, pr.Model))
	}
	if f.Settings != nil {
		c.secret("settings.alertWebhookUrl", f.Settings.AlertWebhookURL)
	}
	c.limits("limits", f.Limits)
	seen = map[string]string{}
	creds := map[string]bool{}
	for i, cr := range f.Credentials {
		p := fmt.Sprintf("credentials[%d]", i)
		c.required(p+".name", cr.Name)
		c.provider(p+".provider", cr.Provider)
		c.secret(p+".apiKey", cr.APIKey)
		if cr.BaseURL != "" {
			if err := providers.ValidateBaseURL(cr.BaseURL); err != nil {
				c.failf(p+".baseUrl", "%v", err)
			}
		}
		c.unique(seen, credKey(cr.Provider, cr.Name), p+".name", fmt.Sprintf("credential %s/%s", cr.Provider, cr.Name))
		creds[credKey(cr.Provider, cr.Name)] = true
	}
	seen = map[string]string{}
	for i, s := range f.Services {
		p := fmt.Sprintf("services[%d]", i)
		c.required(p+".name", s.Name)
		c.provider(p+".provider", s.Provider)
		c.limits(p+".limits", s.Limits)
		c.unique(seen, s.Name, p+".name", fmt.Sprintf("service %q", s.Name))
		// A credential the file does not list may exist already; only one
		// the file manages is checked here.
		if s.Credential != "" && f.Has(SectionCredentials) && !creds[credKey(s.Provider, s.Credential)] {
			c.failf(p+".credential", "no %s credential named %q in credentials", s.Provider, s.Credential)
		}
		targets := map[string]int{}
		for j, t := range s.Targets {
			tp := fmt.Sprintf("%s.targets[%d]", p, j)
			c.required(tp+".credential", t.Credential)
			prov := t.Provider
			if prov == "" {
				prov = s.Provider
			} else {
				c.provider(tp+".provider", prov)
			}
			if t.Weight < 0 {
				c.failf(tp+".weight", "must be at least 1")
			}
			if f.Has(SectionCredentials) && !creds[credKey(prov, t.Credential)] {
				c.failf(tp+".credential", "no %s credential named %q in credentials", prov, t.Credential)
			}
			key := credKey(prov, t.Credential)
			if k, dup := targets[key]; dup {
				c.failf(tp+".credential", "credential %s is a target twice (also targets[%d])", key, k)
			}
			targets[key] = j
		}
	}
	return c.err
}

// credKey names a credential by its identity.
func credKey(provider, name string) string { return provider + "/" + name }

// encode writes v as YAML in the file's style.
func encode(v any) ([]byte, error) {
	return yaml.MarshalWithOptions(v, yaml.Indent(2), yaml.IndentSequence(true), yaml.AutoInt())
}
