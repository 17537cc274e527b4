package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/providers"
)

// modelList is OpenAI's GET /v1/models answer.
type modelList struct {
	Object string       `json:"object"`
	Data   []modelEntry `json:"data"`
}

type modelEntry struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// servicesAnswer is the GET /services answer: the key's services and
// their models with descriptions.
type servicesAnswer struct {
	Services []serviceEntry `json:"services"`
}

type serviceEntry struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Models      []serviceModel `json:"models"`
}

type serviceModel struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

// serveModels answers GET /v1/models (and Gemini's /v1beta/models) with
// the models the key may use, from the cache: no upstream call, so SDKs
// that list models before calling see exactly what Sluice will accept. The
// list is in the caller's API's shape (see callerProtocol), whatever the
// service's provider.
func (p *Proxy) serveModels(w http.ResponseWriter, r *http.Request) {
	proto := callerProtocol(r)
	e, ok := p.local(w, r, proto)
	if !ok {
		return
	}
	if lister, ok := modelLister(proto); ok {
		writeRaw(w, lister.EncodeModels(e.enabled))
		return
	}
	writeJSON(w, openAIModels(e))
}

// openAIModels is OpenAI's model list: the models the key may use, as
// owned by its service's provider since the service was created.
func openAIModels(e *keyEntry) modelList {
	list := modelList{Object: "list", Data: make([]modelEntry, 0, len(e.enabled))}
	created := e.svc.CreatedAt.Unix()
	for _, m := range e.enabled {
		list.Data = append(list.Data, modelEntry{ID: m, Object: "model", Created: created, OwnedBy: e.svc.Provider})
	}
	return list
}

// serveModel answers GET /v1/models/{model} (and /v1beta/models/{model}):
// one model of serveModels' list, in the caller's shape; 404 for a model
// the key may not use.
func (p *Proxy) serveModel(w http.ResponseWriter, r *http.Request, model string) {
	proto := callerProtocol(r)
	e, ok := p.local(w, r, proto)
	if !ok {
		return
	}
	if _, enabled := e.models[model]; !enabled {
		writeRefusal(w, r, proto, refuse(http.StatusNotFound, "model_not_found", notEnabled(model, e)))
		return
	}
	if lister, ok := modelLister(proto); ok {
		var list map[string][]json.RawMessage
		if err := json.Unmarshal(lister.EncodeModels([]string{model}), &list); err == nil {
			for _, items := range list {
				if len(items) == 1 {
					writeRaw(w, items[0])
					return
				}
			}
		}
	}
	one := openAIModels(&keyEntry{svc: e.svc, enabled: []string{model}})
	writeJSON(w, one.Data[0])
}

// callerProtocol is the API of a caller on a route that several APIs
// share (the model lists): Gemini for /v1beta paths and keys sent as
// x-goog-api-key or ?key=, Anthropic for x-api-key with anthropic-version,
// else OpenAI (Cohere's SDKs send bearer keys too, and get OpenAI's list).
func callerProtocol(r *http.Request) providers.Protocol {
	h := r.Header
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1beta/"), h.Get("X-Goog-Api-Key") != "", r.URL.Query().Has("key"):
		return providers.ProtocolGemini
	case h.Get("X-Api-Key") != "" && h.Get("Anthropic-Version") != "":
		return providers.ProtocolAnthropic
	}
	return providers.ProtocolOpenAI
}

// serveServices answers GET /services: the key's service and
// its models, with the catalog's descriptions.
func (p *Proxy) serveServices(w http.ResponseWriter, r *http.Request) {
	if p.opts.Browser != nil && strings.Contains(r.Header.Get("Accept"), "text/html") {
		if _, hasKey := clientkey.FromRequest(r); !hasKey {
			p.opts.Browser.ServeHTTP(w, r)
			return
		}
	}
	e, ok := p.local(w, r, providers.ProtocolOpenAI)
	if !ok {
		return
	}
	svc := serviceEntry{Name: e.svc.ServiceName, Description: e.svc.Description, Models: make([]serviceModel, 0, len(e.enabled))}
	for _, m := range e.enabled {
		svc.Models = append(svc.Models, serviceModel{ID: m, Description: e.models[m].price.Description})
	}
	writeJSON(w, servicesAnswer{Services: []serviceEntry{svc}})
}

// local authenticates a request Sluice answers itself (GET only), with
// refusals in proto's error shape.
func (p *Proxy) local(w http.ResponseWriter, r *http.Request, proto providers.Protocol) (*keyEntry, bool) {
	w.Header().Set("X-Request-Id", requestID(r))
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", http.MethodGet)
		writeRefusal(w, r, proto, refuse(http.StatusMethodNotAllowed, "method_not_allowed", r.URL.Path+" takes GET, not "+r.Method))
		return nil, false
	}
	e, aerr := p.authenticate(r, time.Now())
	if aerr != nil {
		writeRefusal(w, r, proto, aerr)
		return nil, false
	}
	return e, true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, b)
}

func writeRaw(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
