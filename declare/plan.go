package declare

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/secrets"
)

// Action is what a change does.
type Action string

// The actions of a plan.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// The kinds of things a plan changes.
const (
	KindAPIStandard = "API standard"
	KindPrice       = "price"
	KindSettings    = "settings"
	KindLimits      = "organization limits"
	KindCredential  = "credential"
	KindService     = "service"
	KindTarget      = "target"
	KindTargetOrder = "target order"
)

// FieldChange is one field's old and new value as a plan shows them;
// secrets show only that they change and where the new one is read.
type FieldChange struct {
	Field    string
	From, To string
}

// Change is one operation of a plan.
type Change struct {
	Action Action
	Kind   string
	// Name is the thing's identity: a service's name, a credential's
	// provider/name, a target's service → provider/name.
	Name   string
	Fields []FieldChange

	// What the executor needs: the desired item, the current one's ID,
	// and a secret read from its reference (never shown).
	standard *APIStandard
	price    *Price
	settings *Settings
	limits   *Limits
	cred     *Credential
	service  *Service
	target   *Target
	svcName  string
	id       int
	secret   *string
	order    []string
}

// Plan is the changes that make a gateway match a file, in the order they
// are applied, and what the file leaves alone.
type Plan struct {
	Changes []Change
	// Untouched notes what exists but the file does not name and is left
	// as it is (without prune, or what is never deleted).
	Untouched []string
	// Unverified notes secrets judged unchanged by what the admin API
	// shows of them (a key's last four characters, a webhook's host),
	// since it never returns a secret: a new one that shows the same is
	// not seen.
	Unverified []string
}

// Options of a plan.
type Options struct {
	// Prune deletes what a section of the file no longer names.
	Prune bool
	// Getenv reads the environment variables secrets refer to.
	Getenv func(string) string
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Write prints the plan: one line per change, then its fields.
func (p *Plan) Write(w io.Writer) {
	if p.Empty() {
		fmt.Fprintln(w, "no changes")
	}
	for _, c := range p.Changes {
		fmt.Fprintln(w, c.String())
		for _, f := range c.Fields {
			if f.From == "" {
				fmt.Fprintf(w, "    %s: %s\n", f.Field, f.To)
			} else {
				fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, f.From, f.To)
			}
		}
	}
	for _, u := range p.Untouched {
		fmt.Fprintf(w, "  (left alone) %s\n", u)
	}
	for _, u := range p.Unverified {
		fmt.Fprintf(w, "  (unverified) %s\n", u)
	}
}

var actionSigns = map[Action]string{Create: "+", Update: "~", Delete: "-"}

// String is the change's headline, e.g. "+ create service chat".
func (c Change) String() string {
	return fmt.Sprintf("%s %s %s %s", actionSigns[c.Action], c.Action, c.Kind, c.Name)
}

// MakePlan compares a file with a state. The file's secrets are read here,
// so that a missing variable or file is found before anything changes.
func MakePlan(f *File, cur *State, opts Options) (*Plan, error) {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	p := &planner{f: f, cur: cur, opts: opts, plan: &Plan{}}
	if f.Shared() && !cur.InstanceAdmin {
		return nil, fmt.Errorf("the file manages apiStandards or prices, which every organization shares: apply it as an instance admin (a management key of the default organization), or leave those sections out")
	}
	steps := []func() error{p.standards, p.prices, p.credentials, p.services, p.settings, p.orgLimits, p.deletions}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return p.plan, nil
}

type planner struct {
	f     *File
	cur   *State
	opts  Options
	plan  *Plan
	later []Change // deletions, applied last in reverse dependency order
}

func (p *planner) add(c Change) { p.plan.Changes = append(p.plan.Changes, c) }

// unverified notes a secret st was judged to hold by its hint alone.
func (p *planner) unverified(st SecretState, what string) {
	if st.Set && !st.Exact {
		p.plan.Unverified = append(p.plan.Unverified, fmt.Sprintf("%s: matches the stored one as far as the admin API shows it (%s); a different one that shows the same is not seen", what, st.Hint))
	}
}

func (p *planner) untouched(format string, args ...any) {
	p.plan.Untouched = append(p.plan.Untouched, fmt.Sprintf(format, args...))
}

// invalid is a problem of the file found against the state.
func (p *planner) invalid(field, format string, args ...any) error {
	return &ValidationError{Name: p.f.name, Line: p.f.line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
}

// secret reads a reference, naming the file's line when it cannot.
func (p *planner) secret(field string, s *Secret) (string, error) {
	v, err := s.Resolve(p.opts.Getenv)
	if err != nil {
		return "", p.invalid(field, "%s", err.Error())
	}
	return v, nil
}

func (p *planner) standards() error {
	if !p.f.Has(SectionAPIStandards) {
		return nil
	}
	have := map[string]APIStandard{}
	for _, s := range p.cur.APIStandards {
		have[s.Handle] = s
	}
	named := map[string]bool{}
	for i := range p.f.APIStandards {
		want := p.f.APIStandards[i]
		named[want.Handle] = true
		old, ok := have[want.Handle]
		if !ok {
			p.add(Change{Action: Create, Kind: KindAPIStandard, Name: want.Handle, Fields: diff(nil, want, nil), standard: &want})
		} else if fs := diff(old, want, nil); len(fs) > 0 {
			p.add(Change{Action: Update, Kind: KindAPIStandard, Name: want.Handle, Fields: fs, standard: &want})
		}
	}
	for _, s := range p.cur.APIStandards {
		if !named[s.Handle] {
			p.prune(Change{Action: Delete, Kind: KindAPIStandard, Name: s.Handle})
		}
	}
	return nil
}

// prune deletes an unnamed thing with --prune, or notes it.
func (p *planner) prune(c Change) {
	if p.opts.Prune {
		p.later = append(p.later, c)
		return
	}
	p.untouched("%s %s is not in the file (--prune deletes it)", c.Kind, c.Name)
}

func (p *planner) prices() error {
	if !p.f.Has(SectionPrices) {
		return nil
	}
	have := map[string]Price{}
	for _, pr := range p.cur.Prices {
		have[pr.Provider+"/"+pr.Model] = pr
	}
	named := map[string]bool{}
	for i := range p.f.Prices {
		want := normalPrice(p.f.Prices[i])
		key := want.Provider + "/" + want.Model
		named[key] = true
		old, ok := have[key]
		if !ok {
			p.add(Change{Action: Create, Kind: KindPrice, Name: key, Fields: diff(nil, want, nil), price: &want})
		} else if fs := diff(old, want, nil); len(fs) > 0 {
			p.add(Change{Action: Update, Kind: KindPrice, Name: key, Fields: fs, price: &want, id: p.cur.PriceIDs[key]})
		}
	}
	n := 0
	for key := range p.cur.Customized {
		if p.cur.Customized[key] && !named[key] {
			n++
		}
	}
	if n > 0 {
		p.untouched("%d customized price(s) not in the file: prices are never deleted", n)
	}
	return nil
}

func (p *planner) credentials() error {
	if !p.f.Has(SectionCredentials) {
		return nil
	}
	have := map[string]Credential{}
	for _, c := range p.cur.Credentials {
		have[credKey(c.Provider, c.Name)] = c
	}
	named := map[string]bool{}
	for i := range p.f.Credentials {
		want := normalCredential(p.f.Credentials[i])
		key := credKey(want.Provider, want.Name)
		named[key] = true
		var secret *string
		var keyField *FieldChange
		if want.APIKey != nil {
			v, err := p.secret(fmt.Sprintf("credentials[%d].apiKey", i), want.APIKey)
			if err != nil {
				return err
			}
			if st := p.cur.Keys[key]; st.matches(v, lastFour) {
				p.unverified(st, fmt.Sprintf("credential %s key", key))
			} else {
				secret = &v
				from := "(none)"
				if st.Set {
					from = "(set)"
				}
				keyField = &FieldChange{Field: "apiKey", From: from, To: fmt.Sprintf("key changed (from %s)", want.APIKey)}
			}
		}
		old, ok := have[key]
		if !ok {
			fs := diff(nil, want, []string{"apiKey"})
			if keyField != nil {
				keyField.From = ""
				keyField.To = fmt.Sprintf("key set (from %s)", want.APIKey)
				fs = append(fs, *keyField)
			}
			p.add(Change{Action: Create, Kind: KindCredential, Name: key, Fields: fs, cred: &want, secret: secret})
			continue
		}
		fs := diff(old, want, []string{"apiKey"})
		if keyField != nil {
			fs = append(fs, *keyField)
		}
		if len(fs) > 0 {
			p.add(Change{Action: Update, Kind: KindCredential, Name: key, Fields: fs, cred: &want, secret: secret, id: p.cur.CredIDs[key]})
		}
	}
	for _, c := range p.cur.Credentials {
		key := credKey(c.Provider, c.Name)
		if !named[key] {
			if err := p.refusePrunedCredential(key); err != nil {
				return err
			}
			if p.goesWithService(key) {
				continue
			}
			p.prune(Change{Action: Delete, Kind: KindCredential, Name: key, id: p.cur.CredIDs[key]})
		}
	}
	return nil
}

func (p *planner) services() error {
	if !p.f.Has(SectionServices) {
		return nil
	}
	have := map[string]Service{}
	for _, s := range p.cur.Services {
		have[s.Name] = s
	}
	// Without a credentials section, a credential a service names must
	// exist already (with one, Load checked it is in the file).
	existing := map[string]bool{}
	for _, c := range p.cur.Credentials {
		existing[credKey(c.Provider, c.Name)] = true
	}
	named := map[string]bool{}
	for i := range p.f.Services {
		want := normalService(p.f.Services[i])
		named[want.Name] = true
		if !p.f.Has(SectionCredentials) {
			if want.Credential != "" && !existing[credKey(want.Provider, want.Credential)] {
				return p.invalid(fmt.Sprintf("services[%d].credential", i), "there is no %s credential named %q", want.Provider, want.Credential)
			}
			for j, t := range want.Targets {
				if !existing[credKey(t.Provider, t.Credential)] {
					return p.invalid(fmt.Sprintf("services[%d].targets[%d].credential", i, j), "there is no %s credential named %q", t.Provider, t.Credential)
				}
			}
		}
		old, ok := have[want.Name]
		if !ok {
			p.add(Change{Action: Create, Kind: KindService, Name: want.Name, Fields: diff(nil, want, []string{"targets"}), service: &want})
			p.targets(want, nil)
			continue
		}
		if old.Provider != want.Provider {
			return p.invalid(fmt.Sprintf("services[%d].provider", i),
				"service %q is a %s service; its provider cannot change to %s (delete it and create it under another name)", want.Name, old.Provider, want.Provider)
		}
		if want.Credential == "" {
			// A service's credential can be changed, not removed.
			want.Credential = old.Credential
		}
		if fs := diff(old, want, []string{"targets"}); len(fs) > 0 {
			p.add(Change{Action: Update, Kind: KindService, Name: want.Name, Fields: fs, service: &want, id: p.cur.ServiceIDs[want.Name]})
		}
		p.targets(want, old.Targets)
	}
	for _, s := range p.cur.Services {
		if !named[s.Name] && !p.opts.Prune {
			p.prune(Change{Action: Delete, Kind: KindService, Name: s.Name})
		} else if !named[s.Name] {
			c, err := p.serviceDeletion(s)
			if err != nil {
				return err
			}
			p.prune(c)
		}
	}
	return nil
}

// targets plans a named service's targets: they are all in the file, so
// those it no longer lists are removed whether or not it prunes.
func (p *planner) targets(svc Service, have []Target) {
	key := func(t Target) string { return credKey(t.Provider, t.Credential) }
	ids := p.cur.TargetIDs[svc.Name]
	wanted := map[string]bool{}
	for _, t := range svc.Targets {
		wanted[key(t)] = true
	}
	var order []string
	old := map[string]Target{}
	for _, t := range have {
		k := key(t)
		if !wanted[k] {
			p.add(Change{Action: Delete, Kind: KindTarget, Name: svc.Name + " → " + k, svcName: svc.Name, id: ids[k]})
			continue
		}
		old[k] = t
		order = append(order, k)
	}
	for i := range svc.Targets {
		t := svc.Targets[i]
		k := key(t)
		name := svc.Name + " → " + k
		o, ok := old[k]
		if !ok {
			p.add(Change{Action: Create, Kind: KindTarget, Name: name, Fields: diff(nil, t, []string{"credential", "provider"}), svcName: svc.Name, target: &t})
			order = append(order, k)
		} else if fs := diff(o, t, nil); len(fs) > 0 {
			p.add(Change{Action: Update, Kind: KindTarget, Name: name, Fields: fs, svcName: svc.Name, target: &t, id: ids[k]})
		}
	}
	want := make([]string, len(svc.Targets))
	for i, t := range svc.Targets {
		want[i] = key(t)
	}
	if !slices.Equal(order, want) {
		p.add(Change{Action: Update, Kind: KindTargetOrder, Name: svc.Name,
			Fields: []FieldChange{{Field: "order", From: strings.Join(order, ", "), To: strings.Join(want, ", ")}}, svcName: svc.Name, order: want})
	}
}

func (p *planner) settings() error {
	if !p.f.Has(SectionSettings) {
		return nil
	}
	want := normalSettings(p.f.Settings)
	old := normalSettings(p.cur.Settings)
	fs := diff(old, want, []string{"alertWebhookUrl"})
	var secret *string
	if want.AlertWebhookURL != nil {
		v, err := p.secret("settings.alertWebhookUrl", want.AlertWebhookURL)
		if err != nil {
			return err
		}
		if p.cur.Webhook.matches(v, secrets.MaskURL) {
			p.unverified(p.cur.Webhook, "settings.alertWebhookUrl")
		} else {
			secret = &v
			fs = append(fs, FieldChange{Field: "alertWebhookUrl", From: setOrNone(p.cur.Webhook.Set), To: fmt.Sprintf("changed (from %s)", want.AlertWebhookURL)})
		}
	} else if p.cur.Webhook.Set {
		empty := ""
		secret = &empty
		fs = append(fs, FieldChange{Field: "alertWebhookUrl", From: "(set)", To: "(none)"})
	}
	if len(fs) > 0 {
		p.add(Change{Action: Update, Kind: KindSettings, Name: p.cur.Organization, Fields: fs, settings: &want, secret: secret})
	}
	return nil
}

func setOrNone(set bool) string {
	if set {
		return "(set)"
	}
	return "(none)"
}

func (p *planner) orgLimits() error {
	if !p.f.Has(SectionLimits) {
		return nil
	}
	want, old := normalLimits(p.f.Limits), normalLimits(p.cur.Limits)
	if fs := diff(old, want, nil); len(fs) > 0 {
		p.add(Change{Action: Update, Kind: KindLimits, Name: p.cur.Organization, Fields: fs, limits: &want})
	}
	return nil
}

// deletions come last, services before the credentials they use and
// credentials before the standards they name.
func (p *planner) deletions() error {
	rank := map[string]int{KindService: 0, KindCredential: 1, KindAPIStandard: 2}
	sort.SliceStable(p.later, func(i, j int) bool { return rank[p.later[i].Kind] < rank[p.later[j].Kind] })
	p.plan.Changes = append(p.plan.Changes, p.later...)
	return nil
}

// diff lists the fields of two items of one type that differ, by their
// names in the file; old nil lists every field of want that is set.
// Nested structs (limits) are compared field by field, as limits.rpm.
func diff(old, want any, skip []string) []FieldChange {
	var out []FieldChange
	wv := reflect.ValueOf(want)
	var ov reflect.Value
	if old != nil {
		ov = reflect.ValueOf(old)
	}
	diffStruct("", ov, wv, skip, &out)
	return out
}

func diffStruct(prefix string, ov, wv reflect.Value, skip []string, out *[]FieldChange) {
	t := wv.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || tag == "" || tag == "-" || slices.Contains(skip, tag) {
			continue
		}
		w := wv.Field(i)
		var o reflect.Value
		if ov.IsValid() {
			o = ov.Field(i)
		}
		if sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct && sf.Type.Elem() != reflect.TypeOf(Secret{}) {
			ws, os := deref(w), deref(o)
			if !ws.IsValid() {
				ws = reflect.New(sf.Type.Elem()).Elem()
			}
			if ov.IsValid() && !os.IsValid() {
				os = reflect.New(sf.Type.Elem()).Elem()
			}
			diffStruct(prefix+tag+".", os, ws, nil, out)
			continue
		}
		wi, oi := value(w), value(o)
		if ov.IsValid() && reflect.DeepEqual(oi, wi) {
			continue
		}
		if !ov.IsValid() && (wi == nil || sf.Type.Kind() != reflect.Pointer && reflect.ValueOf(wi).IsZero()) {
			continue
		}
		fc := FieldChange{Field: prefix + tag, To: show(wi)}
		if ov.IsValid() {
			fc.From = show(oi)
		}
		*out = append(*out, fc)
	}
}

func deref(v reflect.Value) reflect.Value {
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return reflect.Value{}
	}
	return v.Elem()
}

// value is a field's comparable value: nil for a nil pointer or an empty
// slice or map.
func value(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return v.Elem().Interface()
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return nil
		}
	case reflect.String:
		if v.String() == "" {
			return nil
		}
	}
	return v.Interface()
}

// show writes a value as a plan line does.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		return strconv.Quote(x)
	case USD:
		return strconv.FormatFloat(float64(x), 'f', -1, 64)
	case Secret:
		return "(from " + x.String() + ")"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
