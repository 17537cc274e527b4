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

// isMaskedWebhook reports whether an update gives back the masked form of
// the stored URL, as a form that shows the setting and saves it whole
// does: that keeps the URL rather than storing its mask.
func isMaskedWebhook(given string, stored *string) bool {
	return stored != nil && given != *stored && given == secrets.MaskURL(*stored)
}
