package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestLoginThrottle: failed logins are throttled per username and address
// pair, so that guessing from one address locks out only that address,
// under ceilings per username and per address that slow guessing spread
// over many addresses or many usernames.
func TestLoginThrottle(t *testing.T) {
	type attempt struct {
		user, password, addr string
		want                 error // nil: logged in
	}
	const right = "the-right-password"
	limited := &auth.LoginLimitedError{}
	wrong := func(user, addr string, n int) []attempt {
		out := make([]attempt, n)
		for i := range out {
			out[i] = attempt{user, "wrong", addr, auth.ErrLoginFailed}
		}
		return out
	}
	cases := []struct {
		name    string
		ceiling int // 0: the default
		steps   []attempt
	}{
		{"five wrong from one address lock out that address only", 0, append(wrong("admin", "10.0.0.1", 5),
			attempt{"admin", right, "10.0.0.1", limited},
			attempt{"admin", right, "10.0.0.2", nil},
			attempt{"mia", right, "10.0.0.1", nil})},
		{"four wrong leave the pair free", 0, append(wrong("admin", "10.0.0.1", 4),
			attempt{"admin", right, "10.0.0.1", nil})},
		{"the username's ceiling counts every address", 6, append(append(append(wrong("admin", "10.0.0.1", 2), wrong("admin", "10.0.0.2", 2)...), wrong("admin", "10.0.0.3", 2)...),
			attempt{"admin", right, "10.0.0.4", limited},
			attempt{"mia", right, "10.0.0.4", nil})},
		{"the address's ceiling counts every username", 6, append(append(append(wrong("nobody1", "10.0.0.1", 2), wrong("nobody2", "10.0.0.1", 2)...), wrong("nobody3", "10.0.0.1", 2)...),
			attempt{"admin", right, "10.0.0.1", limited},
			attempt{"admin", right, "10.0.0.2", nil})},
		{"usernames differing in case share a pair", 0, append(append(wrong("admin", "10.0.0.1", 3), wrong("ADMIN", "10.0.0.1", 2)...),
			attempt{"admin", right, "10.0.0.1", limited})},
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := auth.Bootstrap(ctx, db.Client, right); err != nil {
			t.Fatal(err)
		}
		org, err := auth.DefaultOrganization(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		if err := auth.CreateUser(ctx, db.Client, "mia", right, org.ID, auth.RoleMember); err != nil {
			t.Fatal(err)
		}
		tokens, err := auth.NewTokens("test-jwt-secret-test-jwt-secret-0123", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := auth.NewAuthenticator(db.Client, tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if c.ceiling > 0 {
					a.LoginCeiling.Max = c.ceiling
				}
				for i, s := range c.steps {
					_, _, err := a.Login(ctx, auth.LoginRequest{Username: s.user, Password: s.password, Client: auth.Client{IP: s.addr}})
					var gotLimited *auth.LoginLimitedError
					switch {
					case s.want == nil && err != nil:
						t.Fatalf("step %d (%s from %s): %v, want a login", i, s.user, s.addr, err)
					case s.want == limited && !errors.As(err, &gotLimited):
						t.Fatalf("step %d (%s from %s): %v, want a refusal to wait", i, s.user, s.addr, err)
					case s.want == auth.ErrLoginFailed && !errors.Is(err, auth.ErrLoginFailed):
						t.Fatalf("step %d (%s from %s): %v, want a wrong password", i, s.user, s.addr, err)
					}
					if gotLimited != nil && (gotLimited.RetryAfter <= 0 || gotLimited.RetryAfter > time.Minute) {
						t.Fatalf("step %d: retry after %v, want within a minute", i, gotLimited.RetryAfter)
					}
				}
			})
		}
	})
}

// TestLoginGuessesAtOnce: guesses sent at once to two replicas sharing the
// database are counted as they come, before their passwords are checked:
// exactly the pair's limit of them is checked, the rest are refused.
func TestLoginGuessesAtOnce(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := auth.Bootstrap(ctx, db.Client, "the-right-password"); err != nil {
			t.Fatal(err)
		}
		tokens, err := auth.NewTokens("test-jwt-secret-test-jwt-secret-0123", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		marks := auth.NewMarks(db.SQL, db.Dialect)
		replicas := []*auth.Authenticator{auth.NewAuthenticator(db.Client, tokens, log), auth.NewAuthenticator(db.Client, tokens, log)}
		for _, a := range replicas {
			a.ShareLimits(marks)
		}
		errs := make(chan error, 12)
		for i := range cap(errs) {
			go func() {
				_, _, err := replicas[i%2].Login(ctx, auth.LoginRequest{Username: "admin", Password: "wrong", Client: auth.Client{IP: "10.0.0.1"}})
				errs <- err
			}()
		}
		checked, limited := 0, 0
		for range cap(errs) {
			var l *auth.LoginLimitedError
			switch err := <-errs; {
			case errors.Is(err, auth.ErrLoginFailed):
				checked++
			case errors.As(err, &l):
				limited++
			default:
				t.Fatalf("guess: %v", err)
			}
		}
		if checked != 5 || limited != 7 {
			t.Fatalf("%d guesses checked and %d refused, want 5 and 7", checked, limited)
		}
		if _, _, err := replicas[0].Login(ctx, auth.LoginRequest{Username: "admin", Password: "the-right-password", Client: auth.Client{IP: "10.0.0.2"}}); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}
