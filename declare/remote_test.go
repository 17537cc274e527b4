package declare

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/manage"
)

// TestRemoteRefusesAnswersThatAreNotTheChange: an answer that carries no
// GraphQL errors but is not the mutation's result (a proxy's error page in
// JSON, a null result) is an error, never a change counted as made.
func TestRemoteRefusesAnswersThatAreNotTheChange(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		status           int
	}{
		{"a proxy's error page", `{"message":"Internal server error"}`, "502 Bad Gateway", http.StatusBadGateway},
		{"no result", `{"data":{"m":null}}`, "without the change's result", http.StatusOK},
		{"no data", `{}`, "without data", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			r := &Remote{URL: srv.URL, Key: "sk_management"}
			_, err := r.CreateService(context.Background(), manage.CreateServiceInput{ServiceName: "chat", Provider: "openai"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
