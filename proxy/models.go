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

// servicesAnswer is seed 000's GET /services answer.
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

// serveModels answers GET /v1/models with the models the key may use, from
// the cache: no upstream call, so SDKs that list models before calling
// see exactly what Sluice will accept.
func (p *Proxy) serveModels(w http.ResponseWriter, r *http.Request) {
	e, ok := p.local(w, r)
	if !ok {
		return
	}
	list := modelList{Object: "list", Data: make([]modelEntry, 0, len(e.enabled))}
	created := e.svc.CreatedAt.Unix()
	for _, m := range e.enabled {
		list.Data = append(list.Data, modelEntry{ID: m, Object: "model", Created: created, OwnedBy: e.svc.Provider})
	}
	writeJSON(w, list)
}

// serveServices answers seed 000's GET /services: the key's service and
// its models, with the catalog's descriptions.
func (p *Proxy) serveServices(w http.ResponseWriter, r *http.Request) {
	if p.opts.Browser != nil && strings.Contains(r.Header.Get("Accept"), "text/html") {
		if _, hasKey := clientkey.FromRequest(r); !hasKey {
			p.opts.Browser.ServeHTTP(w, r)
			return
		}
	}
	e, ok := p.local(w, r)
	if !ok {
		return
	}
	svc := serviceEntry{Name: e.svc.ServiceName, Description: e.svc.Description, Models: make([]serviceModel, 0, len(e.enabled))}
	for _, m := range e.enabled {
		svc.Models = append(svc.Models, serviceModel{ID: m, Description: e.models[m].price.Description})
	}
	writeJSON(w, servicesAnswer{Services: []serviceEntry{svc}})
}

// local authenticates a request Sluice answers itself (GET only, OpenAI
// error shape).
func (p *Proxy) local(w http.ResponseWriter, r *http.Request) (*keyEntry, bool) {
	w.Header().Set("X-Request-Id", requestID(r))
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", http.MethodGet)
		writeRefusal(w, r, providers.ProtocolOpenAI, refuse(http.StatusMethodNotAllowed, "method_not_allowed", r.URL.Path+" takes GET, not "+r.Method))
		return nil, false
	}
	e, aerr := p.authenticate(r, time.Now())
	if aerr != nil {
		writeRefusal(w, r, providers.ProtocolOpenAI, aerr)
		return nil, false
	}
	return e, true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
