package graph

import (
	"log/slog"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent"
)

// Resolver is the root of the GraphQL resolvers; it carries what they
// depend on. Resolvers stay thin: checks and rules live in the packages
// they call.
type Resolver struct {
	Client *ent.Client
	Log    *slog.Logger
	Auth   *auth.Authenticator
}
