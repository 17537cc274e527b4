package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol/openai"
)

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
	writeRaw(w, modelList(proto, e, e.enabled))
}

// modelList is the list of ids in the shape of proto's API. OpenAI's
// names the service's provider as each model's owner, since the service
// was created.
func modelList(proto providers.Protocol, e *keyEntry, ids []string) []byte {
	if lister, ok := modelLister(proto); ok {
		return lister.EncodeModels(ids)
	}
	return openai.ModelList(ids, e.svc.CreatedAt.Unix(), e.svc.Provider)
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
	writeRaw(w, onlyItem(modelList(proto, e, []string{model})))
}

// onlyItem is the one element of the array member of a one-model list
// (OpenAI's and Anthropic's "data", Gemini's "models"), whatever the
// list's other members.
func onlyItem(list []byte) []byte {
	var members map[string]json.RawMessage
	_ = json.Unmarshal(list, &members)
	for _, v := range members {
		var items []json.RawMessage
		if json.Unmarshal(v, &items) == nil && len(items) == 1 {
			return items[0]
		}
	}
	return list
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
