package gemini

import "encoding/json"

type wireModel struct {
	Name                       string   `json:"name"`
	BaseModelID                string   `json:"baseModelId"`
	Version                    string   `json:"version"`
	DisplayName                string   `json:"displayName"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
}

// EncodeModels is models.list's answer for ids: each as "models/<id>",
// able to generateContent and countTokens. The gateway knows no version
// or token limits, so version is "" and the limits are left out.
func (Adapter) EncodeModels(ids []string) []byte {
	list := struct {
		Models []wireModel `json:"models"`
	}{Models: make([]wireModel, 0, len(ids))}
	for _, id := range ids {
		list.Models = append(list.Models, wireModel{
			Name:                       "models/" + id,
			BaseModelID:                id,
			DisplayName:                id,
			SupportedGenerationMethods: []string{"generateContent", "countTokens"},
		})
	}
	b, _ := json.Marshal(list)
	return b
}
