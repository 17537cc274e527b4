package cohere

import (
	"encoding/json"
	"testing"
)

func TestErrors(t *testing.T) {
	var body struct {
		Message string `json:"message"`
	}
	b := Errors.ErrorBody(429, "rate_limited", "slow down")
	if err := json.Unmarshal(b, &body); err != nil || body.Message != "slow down" {
		t.Errorf("error body %s", b)
	}
	equal(t, "message", Chat.ErrorMessage(b), "slow down")
	equal(t, "no message", Chat.ErrorMessage([]byte(`<html>`)), "")

	events := readEvents(t, Errors.StreamError(500, "upstream_error", "boom"))
	if len(events) != 1 || events[0].Name != "message-end" {
		t.Fatalf("stream error %q", Errors.StreamError(500, "upstream_error", "boom"))
	}
	var e refStreamEvent
	if err := json.Unmarshal(events[0].Data, &e); err != nil {
		t.Fatal(err)
	}
	equal(t, "type", e.Type, "message-end")
	equal(t, "error", e.Delta.Error, "boom")
	equal(t, "finish", e.Delta.FinishReason, "ERROR")
}

func TestEncodeModels(t *testing.T) {
	var list struct {
		Models []struct {
			Name      string   `json:"name"`
			Endpoints []string `json:"endpoints"`
		} `json:"models"`
	}
	if err := json.Unmarshal(Chat.EncodeModels([]string{"command-a-03-2025", "gpt-4o"}), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Models) != 2 || list.Models[1].Name != "gpt-4o" || list.Models[0].Endpoints[0] != "chat" {
		t.Errorf("models %+v", list)
	}
	equal(t, "empty", string(Chat.EncodeModels(nil)), `{"models":[]}`)
}
