package declare

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func intp0(n int) *int { return &n }

// base is a gateway with one of each: an API standard, a price, a
// credential with a key, a service routed to it, default settings and no
// organization limits.
func base() *State {
	st := NewState()
	st.Organization, st.InstanceAdmin = "Default", true
	st.APIStandards = []APIStandard{{Handle: "openai", Description: "OpenAI", KeyMethod: "auth_bearer", KeyField: "Authorization"}}
	st.Prices = []Price{normalPrice(Price{Provider: "openai", Model: "gpt-5", InputPerMtok: 1.25, OutputPerMtok: 10})}
	st.PriceIDs["openai/gpt-5"] = 7
	st.Credentials = []Credential{normalCredential(Credential{Name: "main", Provider: "openai"})}
	st.CredIDs["openai/main"], st.CredNames[1] = 1, "openai/main"
	st.Keys["openai/main"] = SecretState{Set: true, Exact: true, Value: "sk-old-1111"}
	st.Credentials = append(st.Credentials, normalCredential(Credential{Name: "spare", Provider: "openai"}))
	st.CredIDs["openai/spare"], st.CredNames[2] = 2, "openai/spare"
	st.Services = []Service{normalService(Service{Name: "chat", Provider: "openai", Credential: "main", Models: []string{"gpt-5"},
		Limits: &Limits{RPM: intp0(60)}, Targets: []Target{{Credential: "main"}, {Credential: "spare"}}})}
	st.ServiceIDs["chat"] = 10
	st.TargetIDs["chat"] = map[string]int{"openai/main": 100, "openai/spare": 101}
	st.Settings = &Settings{AllowOverwrite: boolp(true)}
	st.Limits = &Limits{}
	return st
}

// same is base's configuration as a file.
const same = `apiStandards:
  - {handle: openai, description: OpenAI, keyMethod: auth_bearer, keyField: Authorization}
prices:
  - {provider: openai, model: gpt-5, inputPerMtok: 1.25, outputPerMtok: 10}
settings: {}
limits: {}
credentials:
  - {name: main, provider: openai, apiKey: {env: MAIN_KEY}}
  - {name: spare, provider: openai}
services:
  - name: chat
    provider: openai
    credential: main
    models: [gpt-5]
    limits: {rpm: 60}
    targets: [{credential: main}, {credential: spare}]
`

func TestPlan(t *testing.T) {
	env := map[string]string{"MAIN_KEY": "sk-old-1111", "NEW_KEY": "sk-new-2222"}
	tests := []struct {
		name  string
		file  string // edits of same: old → new, or a whole file
		edit  [][2]string
		prune bool
		state func(*State)
		// want lists the changes' headlines in order; fields, lines the
		// plan's output must contain.
		want    []string
		fields  []string
		notes   []string
		wantErr string
	}{
		{name: "same file, no changes", want: nil},
		{name: "sections left out are not managed", file: "services: []\n", want: nil,
			notes: []string{"service chat is not in the file (--prune deletes it)"}},
		{name: "sections left out are not pruned either", file: "settings: {}\n", prune: true, want: nil},

		{name: "create API standard", edit: [][2]string{{"apiStandards:\n", "apiStandards:\n  - {handle: mine, description: Mine, keyMethod: none}\n"}},
			want: []string{"+ create API standard mine"}, fields: []string{`keyMethod: "none"`}},
		{name: "update API standard", edit: [][2]string{{"description: OpenAI,", "description: OpenAI v2,"}},
			want: []string{"~ update API standard openai"}, fields: []string{`description: "OpenAI" → "OpenAI v2"`}},
		{name: "API standard not named, no prune", edit: [][2]string{{"  - {handle: openai, description: OpenAI, keyMethod: auth_bearer, keyField: Authorization}\n", ""}},
			want: nil, notes: []string{"API standard openai is not in the file"}},
		{name: "API standard not named, prune", prune: true, edit: [][2]string{{"  - {handle: openai, description: OpenAI, keyMethod: auth_bearer, keyField: Authorization}\n", ""}},
			want: []string{"- delete API standard openai"}},

		{name: "create price", edit: [][2]string{{"prices:\n", "prices:\n  - {provider: openai, model: gpt-5-mini, inputPerMtok: 0.2, outputPerMtok: 1.6}\n"}},
			want: []string{"+ create price openai/gpt-5-mini"}, fields: []string{"inputPerMtok: 0.2"}},
		{name: "update price", edit: [][2]string{{"inputPerMtok: 1.25", "inputPerMtok: 1.000001"}},
			want: []string{"~ update price openai/gpt-5"}, fields: []string{"inputPerMtok: 1.25 → 1.000001"}},
		{name: "prices are never deleted", prune: true, edit: [][2]string{{"  - {provider: openai, model: gpt-5, inputPerMtok: 1.25, outputPerMtok: 10}\n", ""}},
			state: func(st *State) { st.Customized["openai/gpt-5"] = true },
			want:  nil, notes: []string{"1 customized price(s) not in the file: prices are never deleted"}},

		{name: "create credential with a key from env", edit: [][2]string{{"credentials:\n", "credentials:\n  - {name: other, provider: anthropic, apiKey: {env: NEW_KEY}}\n"}},
			want: []string{"+ create credential anthropic/other"}, fields: []string{"apiKey: key set (from env NEW_KEY)", `apiStandard: "anthropic"`}},
		{name: "update credential fields", edit: [][2]string{{"{name: spare, provider: openai}", "{name: spare, provider: openai, displayName: Spare, active: false}"}},
			want: []string{"~ update credential openai/spare"}, fields: []string{`displayName: "spare" → "Spare"`, "active: true → false"}},
		{name: "credential key changed", edit: [][2]string{{"MAIN_KEY", "NEW_KEY"}},
			want: []string{"~ update credential openai/main"}, fields: []string{"apiKey: (set) → key changed (from env NEW_KEY)"}},
		{name: "credential key known by its last four only: unchanged", edit: nil,
			state: func(st *State) { st.Keys["openai/main"] = SecretState{Set: true, Hint: "1111"} }, want: nil,
			notes: []string{"(unverified) credential openai/main key: matches the stored one as far as the admin API shows it (1111)"}},
		{name: "credential key known by its last four only: changed", edit: [][2]string{{"MAIN_KEY", "NEW_KEY"}},
			state: func(st *State) { st.Keys["openai/main"] = SecretState{Set: true, Hint: "1111"} },
			want:  []string{"~ update credential openai/main"}},
		{name: "credential not named, prune", prune: true,
			edit: [][2]string{{"  - {name: spare, provider: openai}\n", ""}, {"targets: [{credential: main}, {credential: spare}]", "targets: [{credential: main}]"}},
			want: []string{"- delete target chat → openai/spare", "- delete credential openai/spare"}},
		{name: "credential key from a missing variable", edit: [][2]string{{"MAIN_KEY", "NOT_SET"}},
			wantErr: "sluice.yaml:8: credentials[0].apiKey: environment variable NOT_SET is not set"},

		{name: "create service", edit: [][2]string{{"services:\n", "services:\n  - {name: batch, provider: openai, credential: spare, models: [gpt-5], active: false}\n"}},
			want: []string{"+ create service batch"}, fields: []string{`credential: "spare"`, "active: false"}},
		{name: "update service fields and limits", edit: [][2]string{{"models: [gpt-5]", "models: [gpt-5, gpt-5-mini]\n    description: Chat"}, {"limits: {rpm: 60}", "limits: {costDayBlock: 5}"}},
			want: []string{"~ update service chat"}, fields: []string{`description: (none) → "Chat"`, `models: ["gpt-5"] → ["gpt-5","gpt-5-mini"]`, "limits.rpm: 60 → (none)", "limits.costDayBlock: (none) → 5"}},
		{name: "service not named, no prune",
			file: strings.SplitN(same, "services:", 2)[0] + "services: []\n",
			want: nil, notes: []string{"service chat is not in the file (--prune deletes it)"}},
		{name: "service not named, prune", prune: true, file: strings.SplitN(same, "services:", 2)[0] + "services: []\n",
			want: []string{"- delete service chat"}},
		{name: "service provider cannot change",
			file:    "services:\n  - name: chat\n    provider: anthropic\n",
			wantErr: "sluice.yaml:3: services[0].provider: service \"chat\" is a openai service"},

		{name: "a credential that does not exist", file: "services:\n  - {name: chat, provider: openai, credential: nope}\n",
			wantErr: `sluice.yaml:2: services[0].credential: there is no openai credential named "nope"`},
		{name: "a target credential that does not exist", file: "services:\n  - name: chat\n    provider: openai\n    targets: [{credential: main}, {credential: main, provider: groq}]\n",
			wantErr: `sluice.yaml:4: services[0].targets[1].credential: there is no groq credential named "main"`},
		{name: "add a target", edit: [][2]string{{"{credential: spare}]", "{credential: spare}, {credential: main, provider: anthropic, weight: 2}]"}, {"credentials:\n", "credentials:\n  - {name: main, provider: anthropic}\n"}},
			want: []string{"+ create credential anthropic/main", "+ create target chat → anthropic/main"}, fields: []string{"weight: 2"}},
		{name: "update a target", edit: [][2]string{{"{credential: spare}]", "{credential: spare, enabled: false, modelMap: {gpt-5: my-gpt}}]"}},
			want: []string{"~ update target chat → openai/spare"}, fields: []string{"enabled: true → false", `modelMap: (none) → {"gpt-5":"my-gpt"}`}},
		{name: "remove a target", edit: [][2]string{{"[{credential: main}, {credential: spare}]", "[{credential: main}]"}},
			want: []string{"- delete target chat → openai/spare"}},
		{name: "reorder targets", edit: [][2]string{{"[{credential: main}, {credential: spare}]", "[{credential: spare}, {credential: main}]"}},
			want: []string{"~ update target order chat"}, fields: []string{"order: openai/main, openai/spare → openai/spare, openai/main"}},

		{name: "settings", edit: [][2]string{{"settings: {}", "settings: {allowOverwrite: false, alertWebhookUrl: {env: HOOK}}"}},
			want:   []string{"~ update settings Default"},
			fields: []string{"allowOverwrite: true → false", "alertWebhookUrl: (none) → changed (from env HOOK)"}},
		{name: "settings webhook removed", state: func(st *State) { st.Webhook = SecretState{Set: true, Hint: "https://hooks.example.com/…"} },
			want: []string{"~ update settings Default"}, fields: []string{"alertWebhookUrl: (set) → (none)"}},
		{name: "settings webhook unchanged by its mask", edit: [][2]string{{"settings: {}", "settings: {alertWebhookUrl: {env: HOOK}}"}},
			state: func(st *State) { st.Webhook = SecretState{Set: true, Hint: "https://hooks.example.com/…"} }, want: nil,
			notes: []string{"(unverified) settings.alertWebhookUrl: matches the stored one as far as the admin API shows it (https://hooks.example.com/…)"}},
		{name: "organization limits", edit: [][2]string{{"limits: {}", "limits: {rpm: 100, costMonthBlock: 1000}"}},
			want: []string{"~ update organization limits Default"}, fields: []string{"rpm: (none) → 100", "costMonthBlock: (none) → 1000"}},

		{name: "shared sections need an instance admin", state: func(st *State) { st.InstanceAdmin = false },
			wantErr: "apply it as an instance admin"},
	}
	env["HOOK"] = "https://hooks.example.com/services/secret"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := same
			if tt.file != "" {
				text = tt.file
			}
			for _, e := range tt.edit {
				if tt.file == "" && !strings.Contains(text, e[0]) {
					t.Fatalf("edit %q does not apply", e[0])
				}
				text = strings.Replace(text, e[0], e[1], 1)
			}
			f, err := Load("sluice.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			st := base()
			if tt.state != nil {
				tt.state(st)
			}
			p, err := MakePlan(f, st, Options{Prune: tt.prune, Getenv: func(k string) string { return env[k] }})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range p.Changes {
				got = append(got, c.String())
			}
			out := planText(p)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("changes:\n%s\nwant:\n%s\nplan:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), out)
			}
			if len(tt.want) == 0 && !strings.HasPrefix(out, "no changes\n") {
				t.Errorf("an empty plan prints:\n%s", out)
			}
			for _, want := range append(tt.fields, tt.notes...) {
				if !strings.Contains(out, want) {
					t.Errorf("the plan lacks %q:\n%s", want, out)
				}
			}
			for _, secret := range []string{"sk-old-1111", "sk-new-2222", "services/secret"} {
				if strings.Contains(out, secret) {
					t.Errorf("the plan shows a secret:\n%s", out)
				}
			}
		})
	}
}

func TestLoadRefusesWithLineNumbers(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"unknown field", "services:\n  - name: chat\n    provider: openai\n    modles: [gpt-5]\n", `sluice.yaml:4:5: unknown field "modles"`},
		{"unknown section", "service:\n  - name: chat\n", `sluice.yaml:1:1: unknown field "service"`},
		{"wrong type", "limits:\n  rpm: lots\n", "sluice.yaml:2:8:"},
		{"key in the file", "credentials:\n  - name: main\n    provider: openai\n    apiKey: sk-live-123\n", "sluice.yaml:4:"},
		{"reference names neither", "credentials:\n  - name: main\n    provider: openai\n    apiKey: {}\n", "sluice.yaml:4: credentials[0].apiKey: give env: VARIABLE or file: /path"},
		{"unknown provider", "services:\n  - name: chat\n    provider: openia\n", "sluice.yaml:3: services[0].provider:"},
		{"missing name", "services:\n  - provider: openai\n", "sluice.yaml:2: services[0].name: is required"},
		{"named twice", "services:\n  - {name: chat, provider: openai}\n  - {name: chat, provider: openai}\n", `sluice.yaml:3: services[1].name: service "chat" is named twice (also at line 2)`},
		{"negative amount", "limits:\n  costDayBlock: -1\n", "sluice.yaml:2: limits.costDayBlock: invalid USD amount: -1 is negative"},
		{"negative amount in exponent form", "limits:\n  costDayBlock: -1e-7\n", "sluice.yaml:2: limits.costDayBlock: invalid USD amount"},
		{"amount not a number", "limits:\n  costDayBlock: [1]\n", "sluice.yaml:2:"},
		{"unknown credential", "credentials: []\nservices:\n  - {name: chat, provider: openai, credential: main}\n", `sluice.yaml:3: services[0].credential: no openai credential named "main"`},
		{"bad key method", "apiStandards:\n  - handle: x\n    description: X\n    keyMethod: basic\n", `sluice.yaml:4: apiStandards[0].keyMethod: "basic"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("sluice.yaml", []byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadAmountInExponentForm(t *testing.T) {
	f, err := Load("sluice.yaml", []byte("limits:\n  costDayBlock: 1.5e+1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Limits == nil || f.Limits.CostDayBlock == nil || *f.Limits.CostDayBlock != 15 {
		t.Fatalf("costDayBlock 1.5e+1 loaded as %+v, want 15", f.Limits)
	}
}

func TestSecretFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("  sk-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := Secret{File: path}.Resolve(func(string) string { return "" })
	if err != nil || v != "sk-from-file" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	if _, err := (Secret{File: filepath.Join(t.TempDir(), "missing")}).Resolve(nil); err == nil {
		t.Fatal("a missing file resolved")
	}
	var ve *ValidationError
	_, err = MakePlan(mustLoad(t, []byte("credentials:\n  - name: a\n    provider: openai\n    apiKey: {file: /nonexistent/key}\n")), base(), Options{})
	if !errors.As(err, &ve) || ve.Line != 4 {
		t.Fatalf("err = %v, want a validation error at line 4", err)
	}
}

// TestREADMEExampleLoads keeps the README's short example a valid file.
func TestREADMEExampleLoads(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Configuration as code")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no yaml example under Configuration as code")
	}
	f, err := Load("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != 1 || !f.Has(SectionCredentials) {
		t.Errorf("the example loads as %+v", f)
	}
}
