package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/projectsettings"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestAlertWebhookURLIsMasked: the alert webhook URL, whose path may be its
// secret, reads as scheme and host to admins and as null to members; the
// settings form saving the masked value back keeps the real URL; the audit
// log records it masked too.
func TestAlertWebhookURLIsMasked(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		const secretURL = "https://hooks.example.com/services/T0/B0/SECRETPATH"
		const masked = "https://hooks.example.com/…"
		update := `mutation($u: String, $o: Boolean) { updateProjectSettings(input: {alertWebhookUrl: $u, allowOverwrite: $o}) { alertWebhookURL } }`
		read := `{ projectSettings { alertWebhookURL } }`

		set := h.as(admin, update, map[string]any{"u": secretURL}).ok(t)
		if got := set.str("updateProjectSettings.alertWebhookURL"); got != masked {
			t.Fatalf("the update answered %q, want %q", got, masked)
		}
		for role, want := range map[string]any{admin: masked, mgmtKey: masked, member: nil} {
			res := h.as(role, read, nil).ok(t)
			if res.get("projectSettings.alertWebhookURL") != want || strings.Contains(res.raw, "SECRET") {
				t.Fatalf("%s reads %s, want %v", role, res.raw, want)
			}
		}

		// The dashboard's form sends the field back as it read it.
		h.as(admin, update, map[string]any{"u": masked, "o": false}).ok(t)
		ps := h.client.ProjectSettings.Query().Where(projectsettings.OrganizationID(h.org.ID)).OnlyX(context.Background())
		if ps.AlertWebhookURL == nil || *ps.AlertWebhookURL != secretURL || ps.AllowOverwrite {
			t.Fatalf("saving the masked form stored %v (allowOverwrite %v)", ps.AlertWebhookURL, ps.AllowOverwrite)
		}

		for _, ev := range h.client.AuditEvent.Query().Where(auditevent.Action("updateProjectSettings")).AllX(context.Background()) {
			if v := ev.Changes["input.alertWebhookUrl"]; v != masked {
				t.Fatalf("the audit log recorded the webhook as %q", v)
			}
		}
		res := h.as(admin, `{ auditEvents(where: {action: "updateProjectSettings"}) { edges { node { changes { field value } } } } }`, nil).ok(t)
		if strings.Contains(res.raw, "SECRET") {
			t.Fatalf("the audit log shows the webhook's secret: %s", res.raw)
		}
	})
}
