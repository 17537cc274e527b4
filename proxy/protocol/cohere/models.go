package cohere

import "encoding/json"

// modelList is the answer of GET /v1/models.
type modelList struct {
	Models []modelEntry `json:"models"`
}

type modelEntry struct {
	Name      string   `json:"name"`
	Endpoints []string `json:"endpoints"`
	Finetuned bool     `json:"finetuned"`
}

// EncodeModels is Cohere's model list of ids. The gateway's catalog does
// not say which models embed, so every model is listed for chat.
func (chat) EncodeModels(ids []string) []byte {
	l := modelList{Models: make([]modelEntry, 0, len(ids))}
	for _, id := range ids {
		l.Models = append(l.Models, modelEntry{Name: id, Endpoints: []string{"chat"}})
	}
	b, _ := json.Marshal(l)
	return b
}
