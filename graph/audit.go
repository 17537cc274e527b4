package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/secrets"
)

// secretArgs are input fields whose values never reach the audit log
// (a changed provider key shows as "changed").
var secretArgs = map[string]bool{
	"password": true, "providerApiKey": true, "apiKey": true, "key": true, "secret": true,
	"token": true, "current": true, "new": true, "code": true, "challenge": true,
}

// unrecordedArgs are, by mutation, secret inputs that change nothing, so
// that even "changed" would mislead: a login's password is checked, not
// set, and so is the current password of a password change.
var unrecordedArgs = map[string]map[string]bool{
	"login":                   {"password": true},
	"changePassword":          {"current": true},
	"loginTwoFactor":          {"challenge": true, "code": true},
	"confirmTwoFactor":        {"code": true},
	"regenerateRecoveryCodes": {"code": true},
	"disableTwoFactor":        {"password": true, "code": true},
}

// maskedArgs are input fields recorded masked: URLs whose path may be a
// secret, shown as the API shows them (secrets.MaskURL).
var maskedArgs = map[string]bool{"alertWebhookUrl": true}

// auditor records every mutation: who, what, the target, the
// fields it was given (secrets as "changed"), and whether it succeeded, was
// refused, or failed. It wraps each root field of a mutation, so no
// resolver can forget it. Every row is bounded (auditChangesMax), and the
// refused mutations of a caller without a login are summarised in one row
// per request, and only so many such rows a minute from one address:
// without a login, nobody can make the log grow faster than that.
type auditor struct {
	client  *ent.Client
	log     *slog.Logger
	anon    *auth.Limiter
	dropped *droppedRows
}

// defaultAnonAuditPerMinute is how many rows of refused anonymous
// mutations one address may add to the audit log in a minute.
const defaultAnonAuditPerMinute = 30

func newAuditor(client *ent.Client, log *slog.Logger, anonPerMinute int) auditor {
	if anonPerMinute <= 0 {
		anonPerMinute = defaultAnonAuditPerMinute
	}
	return auditor{client: client, log: log, anon: auth.NewLimiter("anonymous-audit", anonPerMinute, time.Minute), dropped: &droppedRows{}}
}

var (
	_ graphql.HandlerExtension    = auditor{}
	_ rootFieldInterceptor        = auditor{}
	_ graphql.ResponseInterceptor = auditor{}
)

func (auditor) ExtensionName() string                   { return "AuditLog" }
func (auditor) Validate(graphql.ExecutableSchema) error { return nil }
func (a auditor) interceptRootField(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if fc.Object != "Mutation" {
		return next(ctx)
	}
	target := &auditTargetRef{}
	res, err := next(context.WithValue(ctx, auditTargetKey{}, target))
	a.record(ctx, fc, target, err)
	return res, err
}

// InterceptResponse gives a mutation request without a login one summary
// of its refused mutations, written when the request is done.
func (a auditor) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Mutation || auth.ViewerFrom(ctx) != nil {
		return next(ctx)
	}
	refused := &anonRefusals{actions: map[string]int{}}
	resp := next(context.WithValue(ctx, anonRefusalsKey{}, refused))
	a.recordAnonymous(ctx, refused)
	return resp
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
	changes := auditChanges(args)
	for name := range unrecordedArgs[fc.Field.Name] {
		delete(changes, name)
	}
	v := auth.ViewerFrom(ctx)
	if v == nil {
		v = target.actor
	}
	if v == nil && resErr != nil {
		if refused, ok := ctx.Value(anonRefusalsKey{}).(*anonRefusals); ok {
			refused.add(fc.Field.Name, args, changes, resErr)
			return
		}
	}

	ev := a.client.AuditEvent.Create().
		SetAction(fc.Field.Name).
		SetTargetType(target.typ).
		SetTargetID(target.id).
		SetTargetName(capString(target.name, auditValueMax)).
		SetChanges(changes).
		SetClientIP(auth.ClientIPFrom(ctx))
	if v != nil {
		ev.SetOrganizationID(v.OrgID).SetActorName(v.Username)
		if v.IsManagementKey() {
			ev.SetActorType(auditevent.ActorTypeManagementKey).SetActorID(v.ManagementKeyID)
		} else {
			ev.SetActorType(auditevent.ActorTypeUser).SetActorID(v.UserID)
		}
	} else {
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetActorName(usernameArg(args))
	}
	outcome, msg := auditOutcome(resErr)
	ev.SetOutcome(outcome).SetError(msg)
	if target.id == "" {
		if id, ok := args["id"]; ok {
			ev.SetTargetID(capString(fmt.Sprint(id), auditValueMax))
		}
	}
	a.write(ctx, fc.Field.Name, ev)
}

// write saves an audit event. The mutation's own context may be cancelled
// by now (client gone); the record of what it did must still be written.
func (a auditor) write(ctx context.Context, action string, ev *ent.AuditEventCreate) {
	if err := ev.Exec(context.WithoutCancel(ctx)); err != nil {
		a.log.ErrorContext(ctx, "write audit event", "action", action, "err", err)
	}
}

// auditOutcome is how a mutation's result is recorded: success, denied
// (with why) or error (with why, unless it is our fault).
func auditOutcome(err error) (auditevent.Outcome, string) {
	switch code := errorCode(err); {
	case err == nil:
		return auditevent.OutcomeSuccess, ""
	case code == CodeForbidden || code == CodeUnauthenticated || code == CodeRateLimited:
		return auditevent.OutcomeDenied, capString(err.Error(), auditErrorMax)
	case code == CodeInternal || code == "":
		return auditevent.OutcomeError, "internal error"
	default:
		return auditevent.OutcomeError, capString(err.Error(), auditErrorMax)
	}
}

// usernameArg is the username a mutation without a login was given (a
// login), bounded like any value.
func usernameArg(args map[string]any) string {
	u, _ := args["username"].(string)
	return capString(u, auditNameMax)
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
// inputs as input.field, secrets as "changed", each value bounded: a
// string to auditValueMax bytes, a list of more than auditListMax items as
// its length alone.
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
			if u, ok := x[k].(string); ok && u != "" && maskedArgs[k] {
				out[name] = secrets.MaskURL(u)
				continue
			}
			flatten(name, x[k], out)
		}
	case []any:
		if len(x) > auditListMax {
			out[prefix] = fmt.Sprintf("[%d items]", len(x))
			return
		}
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, capString(fmt.Sprint(e), auditItemMax))
		}
		out[prefix] = capString("["+strings.Join(parts, ", ")+"]", auditValueMax)
	case nil:
		out[prefix] = "null"
	default:
		out[prefix] = capString(redactURL(fmt.Sprint(x)), auditValueMax)
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
