package declare

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
)

// WebhookEnv is the variable an exported file reads the alert webhook
// URL from.
const WebhookEnv = "SLUICE_ALERT_WEBHOOK_URL"

// envName is the variable an exported file reads a credential's key
// from, e.g. OPENAI_MAIN_API_KEY.
func envName(provider, name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(provider + "_" + name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + "_API_KEY"
}

func splitCredKey(key string) (provider, name string) {
	provider, name, _ = strings.Cut(key, "/")
	return provider, name
}

func credName(key string) string {
	_, name := splitCredKey(key)
	return name
}

// Export writes a state as a file: every section the reader may change,
// defaults left out, secrets as references to environment variables
// (the export cannot know where they are kept; edit them to taste).
// Prices are those edited or added by hand: the rest come from the
// catalog built into Sluice.
func Export(st *State) ([]byte, error) {
	var doc yaml.MapSlice
	if st.InstanceAdmin {
		stds := make([]APIStandard, 0, len(st.APIStandards))
		stds = append(stds, st.APIStandards...)
		doc = append(doc, yaml.MapItem{Key: SectionAPIStandards, Value: stds})
		prices := []Price{}
		for _, p := range st.Prices {
			if st.Customized[p.Provider+"/"+p.Model] {
				prices = append(prices, compactPrice(p))
			}
		}
		doc = append(doc, yaml.MapItem{Key: SectionPrices, Value: prices})
	}
	settings := normalSettings(st.Settings)
	if st.Webhook.Set {
		settings.AlertWebhookURL = &Secret{Env: WebhookEnv}
	} else {
		settings.AlertWebhookURL = nil
	}
	doc = append(doc, yaml.MapItem{Key: SectionSettings, Value: compactSettings(settings)})
	doc = append(doc, yaml.MapItem{Key: SectionLimits, Value: normalLimits(st.Limits)})
	creds := []Credential{}
	for _, c := range st.Credentials {
		c = compactCredential(c)
		c.APIKey = nil
		if st.Keys[credKey(c.Provider, c.Name)].Set {
			c.APIKey = &Secret{Env: envName(c.Provider, c.Name)}
		}
		creds = append(creds, c)
	}
	doc = append(doc, yaml.MapItem{Key: SectionCredentials, Value: creds})
	svcs := []Service{}
	for _, s := range st.Services {
		svcs = append(svcs, compactService(s))
	}
	doc = append(doc, yaml.MapItem{Key: SectionServices, Value: svcs})
	body, err := encode(doc)
	if err != nil {
		return nil, fmt.Errorf("write the file: %w", err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# Sluice configuration of organization %q, written by sluice export.\n", st.Organization)
	fmt.Fprintf(&out, "# Provider keys are read from the environment variables named here: set them,\n")
	fmt.Fprintf(&out, "# or change env: VARIABLE to file: /path, before sluice apply -f.\n")
	out.Write(body)
	return out.Bytes(), nil
}
