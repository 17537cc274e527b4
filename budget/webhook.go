package budget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/projectsettings"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/upstream"
)

// Webhook POSTs budget alerts to each organization's alert webhook URL
// (project settings), retrying with back-off, off the request path.
type Webhook struct {
	Client *ent.Client
	// Outbound is how it connects to the webhooks: an admin sets their
	// URLs, so the operator's refusal of private addresses holds for them
	// as for providers.
	Outbound upstream.Policy
	Log      *slog.Logger
	// Backoff is the first retry delay; it doubles up to Attempts tries.
	Backoff  time.Duration
	Attempts int
}

// Run delivers alerts until ctx ends or alerts closes.
func (w *Webhook) Run(ctx context.Context, alerts <-chan Alert) {
	client := upstream.NewClient(w.Outbound, 10*time.Second)
	for {
		select {
		case <-ctx.Done():
			return
		case a, ok := <-alerts:
			if !ok {
				return
			}
			w.deliver(ctx, client, a)
		}
	}
}

// payload is what the webhook receives.
type payload struct {
	Event       string    `json:"event"`
	Window      string    `json:"window"`
	WindowStart time.Time `json:"windowStart"`
	SpentUSD    float64   `json:"spentUsd"`
	WarnUSD     float64   `json:"warnUsd"`
	Message     string    `json:"message"`
}

func (w *Webhook) deliver(ctx context.Context, client *http.Client, a Alert) {
	ps, err := w.Client.ProjectSettings.Query().Where(projectsettings.OrganizationID(a.OrgID)).Only(ctx)
	if err != nil || ps.AlertWebhookURL == nil || *ps.AlertWebhookURL == "" {
		return
	}
	body, _ := json.Marshal(payload{
		Event: "budget.warning", Window: a.Window, WindowStart: a.Start,
		SpentUSD: a.Spent.USD(), WarnUSD: a.Warn.USD(),
		Message: fmt.Sprintf("%s spend %s passed its warning threshold %s", a.Window, a.Spent, a.Warn),
	})
	delay := w.Backoff
	if delay == 0 {
		delay = time.Second
	}
	attempts := w.Attempts
	if attempts == 0 {
		attempts = 6
	}
	for i := 1; i <= attempts; i++ {
		err := post(ctx, client, *ps.AlertWebhookURL, body)
		if err == nil {
			return
		}
		w.Log.Warn("budget alert webhook failed", "webhook", secrets.MaskURL(*ps.AlertWebhookURL), "attempt", i, "of", attempts, "err", err)
		if i == attempts {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func post(ctx context.Context, client *http.Client, webhook string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return withoutURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sluice-budget-alerts")
	resp, err := client.Do(req)
	if err != nil {
		return withoutURL(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// withoutURL drops the URL from a client error: a webhook's path may be
// its secret, and these errors are logged.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
