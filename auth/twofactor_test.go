package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/secrets"
)

// TestTwoFactorCodes: with two-factor on, the password alone starts no
// session; the second step takes a code of the current 30-second step or
// one either side, each step once, and each recovery code once.
func TestTwoFactorCodes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const password = "the-right-password"
		if _, err := auth.Bootstrap(ctx, db.Client, password); err != nil {
			t.Fatal(err)
		}
		tokens, _ := auth.NewTokens("test-jwt-secret-test-jwt-secret-0123", time.Hour)
		a := auth.NewAuthenticator(db.Client, tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
		master, _ := secrets.GenerateMasterKey()
		key, _ := secrets.ParseMasterKey(master)
		a.Keyring, _ = secrets.NewKeyring(key)
		now := time.Unix(1_900_000_000, 0)
		a.SetNow(func() time.Time { return now })
		a.Logins.Max = 100 // the cases fail codes on purpose; the end checks the limit
		admin, err := db.Client.User.Query().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v := &auth.Viewer{UserID: admin.ID, Username: admin.Username}
		e, err := a.EnrollTwoFactor(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.ConfirmTwoFactor(ctx, v, "000000", ""); err == nil || !strings.Contains(err.Error(), "wrong") {
			t.Fatalf("confirm with a wrong code: %v", err)
		}
		recovery, err := a.ConfirmTwoFactor(ctx, v, totpAt(t, e.Secret, now), "")
		if err != nil || len(recovery) != 10 {
			t.Fatalf("confirm: %d codes, %v", len(recovery), err)
		}
		stored, _ := db.Client.User.Get(ctx, admin.ID)
		if strings.Contains(string(*stored.TotpCiphertext), e.Secret) {
			t.Fatal("the secret is stored in the clear")
		}
		code := func(d time.Duration) string { return totpAt(t, e.Secret, now.Add(d)) }
		cases := []struct {
			name string
			at   time.Duration // the clock, from the start
			code string
			want error
		}{
			{"the code confirming is not taken again", 0, code(0), auth.ErrWrongCode},
			{"the next step's code, a step early", 0, code(30 * time.Second), nil},
			{"the same code again", 30 * time.Second, code(30 * time.Second), auth.ErrWrongCode},
			{"the step before the one last used", 60 * time.Second, code(30 * time.Second), auth.ErrWrongCode},
			{"the current code", 90 * time.Second, code(90 * time.Second), nil},
			{"a code one step old", 180 * time.Second, code(150 * time.Second), nil},
			{"a code two steps old", 240 * time.Second, code(180 * time.Second), auth.ErrWrongCode},
			{"a wrong code", 300 * time.Second, "12345x", auth.ErrWrongCode},
			{"a recovery code", 300 * time.Second, recovery[0], nil},
			{"the same recovery code again", 300 * time.Second, recovery[0], auth.ErrWrongCode},
			{"another recovery code, typed in capitals without dashes", 300 * time.Second, strings.ToUpper(strings.ReplaceAll(recovery[1], "-", "")), nil},
		}
		start := now
		for _, c := range cases {
			now = start.Add(c.at)
			sess, challenge, err := a.Login(ctx, auth.LoginRequest{Username: admin.Username, Password: password})
			if err != nil || sess != nil || challenge == nil {
				t.Fatalf("%s: the password step answered a session %v, challenge %v, %v", c.name, sess != nil, challenge != nil, err)
			}
			sess, _, err = a.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: c.code})
			if !errors.Is(err, c.want) || (c.want == nil) != (sess != nil) {
				t.Fatalf("%s: session %v, %v; want %v", c.name, sess != nil, err, c.want)
			}
			if sess != nil {
				if _, _, err := a.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: recovery[9]}); !errors.Is(err, auth.ErrChallengeEnded) {
					t.Fatalf("%s: a used challenge answered %v", c.name, err)
				}
			}
		}
		st, err := a.TwoFactorOf(ctx, admin.ID)
		if err != nil || st.EnabledAt == nil || st.RecoveryCodesLeft != 8 {
			t.Fatalf("state %+v, %v; want on with 8 recovery codes", st, err)
		}
		now = start.Add(time.Hour)
		_, challenge, _ := a.Login(ctx, auth.LoginRequest{Username: admin.Username, Password: password})
		now = now.Add(6 * time.Minute)
		if _, _, err := a.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: code(time.Hour + 6*time.Minute)}); !errors.Is(err, auth.ErrChallengeEnded) {
			t.Fatalf("an expired challenge answered %v", err)
		}

		// Wrong codes count as failed logins: after 5, even the right code waits.
		b := auth.NewAuthenticator(db.Client, tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
		b.Keyring = a.Keyring
		b.SetNow(func() time.Time { return now })
		_, challenge, err = b.Login(ctx, auth.LoginRequest{Username: admin.Username, Password: password, Client: auth.Client{IP: "10.0.0.9"}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, _, err := b.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: "abcdefgh", Client: auth.Client{IP: "10.0.0.9"}}); !errors.Is(err, auth.ErrWrongCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		var limited *auth.LoginLimitedError
		if _, _, err := b.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: recovery[2], Client: auth.Client{IP: "10.0.0.9"}}); !errors.As(err, &limited) {
			t.Fatalf("the right code after 5 wrong ones answered %v, want a refusal to wait", err)
		}

		// Spread over addresses, wrong codes still stop at 10 an hour for
		// the person: the 11th attempt waits, even with the right code.
		c := auth.NewAuthenticator(db.Client, tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
		c.Keyring = a.Keyring
		c.SetNow(func() time.Time { return now })
		_, challenge, err = c.Login(ctx, auth.LoginRequest{Username: admin.Username, Password: password, Client: auth.Client{IP: "10.0.1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			ip := fmt.Sprintf("10.0.2.%d", i)
			if _, _, err := c.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: "abcdefgh", Client: auth.Client{IP: ip}}); !errors.Is(err, auth.ErrWrongCode) {
				t.Fatalf("wrong code %d from %s: %v", i, ip, err)
			}
		}
		if _, _, err := c.LoginWithCode(ctx, auth.CodeRequest{Challenge: challenge.Token, Code: recovery[2], Client: auth.Client{IP: "10.0.3.1"}}); !errors.As(err, &limited) {
			t.Fatalf("the right code after 10 wrong ones from as many addresses answered %v, want a refusal to wait", err)
		}
	})
}

func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := auth.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestResealTwoFactor: a master key rotation re-seals two-factor secrets,
// after which they open under the new key alone.
func TestResealTwoFactor(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := auth.Bootstrap(ctx, db.Client, "the-right-password"); err != nil {
			t.Fatal(err)
		}
		keyring := func(keys ...string) *secrets.Keyring {
			var raw [][]byte
			for _, k := range keys {
				b, _ := secrets.ParseMasterKey(k)
				raw = append(raw, b)
			}
			kr, err := secrets.NewKeyring(raw[0], raw[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			return kr
		}
		oldKey, _ := secrets.GenerateMasterKey()
		newKey, _ := secrets.GenerateMasterKey()
		tokens, _ := auth.NewTokens("test-jwt-secret-test-jwt-secret-0123", time.Hour)
		a := auth.NewAuthenticator(db.Client, tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
		a.Keyring = keyring(oldKey)
		u := db.Client.User.Query().OnlyX(ctx)
		v := &auth.Viewer{UserID: u.ID}
		e, err := a.EnrollTwoFactor(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := auth.ResealTwoFactor(ctx, db.Client, keyring(newKey, oldKey)); err != nil || n != 1 {
			t.Fatalf("resealed %d, %v; want 1", n, err)
		}
		if n, err := auth.ResealTwoFactor(ctx, db.Client, keyring(newKey)); err != nil || n != 0 {
			t.Fatalf("resealed again %d, %v; want 0", n, err)
		}
		a.Keyring = keyring(newKey)
		if _, err := a.ConfirmTwoFactor(ctx, v, totpAt(t, e.Secret, time.Now()), ""); err != nil {
			t.Fatalf("confirm under the new key alone: %v", err)
		}
	})
}
