package proxy

import (
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/providers"
)

// applyDefaults puts a service's request defaults (the enforced
// inference configuration: max_tokens, temperature, …) into a request
// body. With overwrite allowed, a default fills only what the client left
// out; otherwise it replaces the client's value. Gemini keeps these under
// generationConfig. Bodies of services without defaults never come here,
// so the common path pays nothing.
func applyDefaults(proto providers.Protocol, body []byte, defaults map[string]any, allowOverwrite bool) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("null body")
	}
	target := doc
	var gen map[string]json.RawMessage
	if proto == providers.ProtocolGemini {
		if raw, ok := doc["generationConfig"]; ok {
			if err := json.Unmarshal(raw, &gen); err != nil {
				return nil, fmt.Errorf("generationConfig: %w", err)
			}
		}
		if gen == nil {
			gen = map[string]json.RawMessage{}
		}
		target = gen
	}
	for k, v := range defaults {
		if _, given := target[k]; given && allowOverwrite {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("request default %s: %w", k, err)
		}
		target[k] = raw
	}
	if gen != nil {
		raw, err := json.Marshal(gen)
		if err != nil {
			return nil, err
		}
		doc["generationConfig"] = raw
	}
	return json.Marshal(doc)
}
