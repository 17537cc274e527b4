package openai

import (
	"encoding/json"
	"testing"

	"github.com/openai/openai-go/v3"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		status   int
		code     string
		wantType string
	}{
		{401, "invalid_api_key", "authentication_error"},
		{402, "budget_exceeded", "insufficient_quota"},
		{403, "forbidden", "permission_error"},
		{404, "model_not_found", "not_found_error"},
		{429, "upstream_rate_limited", "rate_limit_error"},
		{400, "bad_request", "invalid_request_error"},
		{502, "upstream_unavailable", "api_error"},
	}
	for _, tt := range tests {
		body := Errors.ErrorBody(tt.status, tt.code, "it failed")
		// The SDK reads the error member into openai.Error.
		var wrapped struct {
			Error openai.Error `json:"error"`
		}
		if err := json.Unmarshal(body, &wrapped); err != nil {
			t.Fatal(err)
		}
		e := wrapped.Error
		want := `{"error":{"message":"it failed","type":"` + tt.wantType + `","param":null,"code":"` + tt.code + `"}}`
		if string(body) != want || e.Message != "it failed" || e.Type != tt.wantType || e.Code != tt.code {
			t.Errorf("%d: %s", tt.status, body)
		}
		if got := string(Errors.StreamError(tt.status, tt.code, "it failed")); got != "data: "+want+"\n\n" {
			t.Errorf("stream error = %q", got)
		}
		if got := Chat.ErrorMessage(body); got != "it failed" {
			t.Errorf("ErrorMessage = %q", got)
		}
	}
	for body, want := range map[string]string{
		`{"error":"model is required"}`:              "model is required",
		`{"object":"error","message":"vllm says"}`:   "vllm says",
		`{"detail":"Not Found"}`:                     "Not Found",
		`<html>bad gateway</html>`:                   "",
		`{"error":{"code":400,"message":"or says"}}`: "or says",
	} {
		if got := Embeddings.ErrorMessage([]byte(body)); got != want {
			t.Errorf("ErrorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}
