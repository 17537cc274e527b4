package openai

import "encoding/json"

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

// ModelList is OpenAI's model list of ids, each created at created (Unix
// seconds) and owned by ownedBy.
func ModelList(ids []string, created int64, ownedBy string) []byte {
	list := modelList{Object: "list", Data: make([]modelEntry, 0, len(ids))}
	for _, id := range ids {
		list.Data = append(list.Data, modelEntry{ID: id, Object: "model", Created: created, OwnedBy: ownedBy})
	}
	b, _ := json.Marshal(&list)
	return b
}
