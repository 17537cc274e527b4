package openai

import (
	"encoding/json"
	"testing"

	"github.com/openai/openai-go/v3"
)

func TestModelList(t *testing.T) {
	b := ModelList([]string{"gpt-4o", "claude-sonnet-4-5"}, 1700000000, "openai")
	var page struct {
		Object string         `json:"object"`
		Data   []openai.Model `json:"data"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1700000000,"owned_by":"openai"},{"id":"claude-sonnet-4-5","object":"model","created":1700000000,"owned_by":"openai"}]}`
	if string(b) != want || page.Data[1].ID != "claude-sonnet-4-5" || page.Data[0].OwnedBy != "openai" {
		t.Errorf("%s", b)
	}
	if got := string(Chat.EncodeModels(nil)); got != `{"object":"list","data":[]}` {
		t.Errorf("empty list = %s", got)
	}
}
