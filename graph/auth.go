package graph

import "context"

// requireViewer refuses callers that are not logged in. Login arrives with
// the admin-access work; until then every non-public field is closed.
func requireViewer(ctx context.Context) error {
	return Errorf(CodeUnauthenticated, "log in first: send Authorization: Bearer <token>")
}
