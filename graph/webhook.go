package graph

import (
	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/secrets"
)

// maskedWebhook is what a viewer reads of an alert webhook URL, whose path
// may be its secret: admins its scheme and host (secrets.MaskURL), members
// nothing.
func maskedWebhook(v *auth.Viewer, url *string) *string {
	if url == nil || !v.IsAdmin() {
		return nil
	}
	masked := secrets.MaskURL(*url)
	return &masked
}
