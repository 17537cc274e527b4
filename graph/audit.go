package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
)

// secretArgs are input fields whose values never reach the audit log
// (seed 002: a changed provider key shows as "changed").
var secretArgs = map[string]bool{
	"password": true, "providerApiKey": true, "apiKey": true, "key": true, "secret": true,
}

// auditor records every mutation (seed 002): who, what, the target, the
// fields it was given (secrets as "changed"), and whether it succeeded, was
// refused, or failed. It wraps each root field of a mutation, so no
// resolver can forget it.
type auditor struct {
	client *ent.Client
	log    *slog.Logger
}

var (
	_ graphql.HandlerExtension = auditor{}
	_ graphql.FieldInterceptor = auditor{}
)

func (auditor) ExtensionName() string                   { return "AuditLog" }
func (auditor) Validate(graphql.ExecutableSchema) error { return nil }
func (a auditor) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || fc.Parent == nil || fc.Parent.Parent != nil {
		return next(ctx)
	}
	target := &auditTargetRef{}
	res, err := next(context.WithValue(ctx, auditTargetKey{}, target))
	a.record(ctx, fc, target, err)
	return res, err
}

type auditTargetKey struct{}

type auditTargetRef struct {
	typ, id, name string
	actor         *auth.Viewer // who acted, when not the request's viewer (login)
}

// auditActor names who acted when the request had no viewer yet: a
// successful login is recorded as the user who logged in.
func auditActor(ctx context.Context, v *auth.Viewer) {
	if t, ok := ctx.Value(auditTargetKey{}).(*auditTargetRef); ok {
		t.actor = v
	}
}

// auditTarget names what a mutation acted on, for its audit event.
func auditTarget(ctx context.Context, typ string, id int, name string) {
	if t, ok := ctx.Value(auditTargetKey{}).(*auditTargetRef); ok {
		t.typ, t.name = typ, name
		if id != 0 {
			t.id = fmt.Sprint(id)
		}
	}
}

func (a auditor) record(ctx context.Context, fc *graphql.FieldContext, target *auditTargetRef, resErr error) {
	oc := graphql.GetOperationContext(ctx)
	args := fc.Field.ArgumentMap(oc.Variables)
	changes := map[string]string{}
	flatten("", args, changes)

	ev := a.client.AuditEvent.Create().
		SetAction(fc.Field.Name).
		SetTargetType(target.typ).
		SetTargetID(target.id).
		SetTargetName(target.name).
		SetChanges(changes).
		SetClientIP(auth.ClientIPFrom(ctx))
	v := auth.ViewerFrom(ctx)
	if v == nil {
		v = target.actor
	}
	if v != nil {
		ev.SetOrganizationID(v.OrgID).SetActorName(v.Username)
		if v.IsManagementKey() {
			ev.SetActorType(auditevent.ActorTypeManagementKey).SetActorID(v.ManagementKeyID)
		} else {
			ev.SetActorType(auditevent.ActorTypeUser).SetActorID(v.UserID)
		}
	} else {
		ev.SetActorType(auditevent.ActorTypeAnonymous)
		if u, ok := args["username"].(string); ok {
			ev.SetActorName(u)
		}
	}
	switch code := errorCode(resErr); {
	case resErr == nil:
		ev.SetOutcome(auditevent.OutcomeSuccess)
	case code == CodeForbidden || code == CodeUnauthenticated || code == CodeRateLimited:
		ev.SetOutcome(auditevent.OutcomeDenied).SetError(resErr.Error())
	case code == CodeInternal || code == "":
		ev.SetOutcome(auditevent.OutcomeError).SetError("internal error")
	default:
		ev.SetOutcome(auditevent.OutcomeError).SetError(resErr.Error())
	}
	if target.id == "" {
		if id, ok := args["id"]; ok {
			ev.SetTargetID(fmt.Sprint(id))
		}
	}
	// The mutation's own context may be cancelled by now (client gone);
	// the record of what it did must still be written.
	if err := ev.Exec(context.WithoutCancel(ctx)); err != nil {
		a.log.ErrorContext(ctx, "write audit event", "action", fc.Field.Name, "err", err)
	}
}

// errorCode is the extensions.code an error will be answered with.
func errorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case err == nil:
		return ""
	case ent.IsNotFound(err):
		return CodeNotFound
	case ent.IsConstraintError(err):
		return CodeConflict
	case ent.IsValidationError(err):
		return CodeBadUserInput
	}
	return CodeInternal
}

// flatten writes the arguments of a mutation as field → value, nested
// inputs as input.field, secrets as "changed".
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			if secretArgs[k] {
				out[name] = "changed"
				continue
			}
			flatten(name, x[k], out)
		}
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
		out[prefix] = "[" + strings.Join(parts, ", ") + "]"
	case nil:
		out[prefix] = "null"
	default:
		s := redactURL(fmt.Sprint(x))
		if len(s) > 500 {
			s = s[:500] + "…"
		}
		out[prefix] = s
	}
}

// redactURL hides the password of a URL given as input (a base URL with
// credentials is refused, but the refusal is audited too).
func redactURL(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return "(a URL that could not be read; not recorded)"
	}
	return u.Redacted()
}
