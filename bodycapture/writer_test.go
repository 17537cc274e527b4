package bodycapture

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/secrets"
)

func testRing(t *testing.T) *secrets.Keyring {
	t.Helper()
	ring, err := secrets.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func capture(id string, at time.Time, expires time.Time) Capture {
	return Capture{CreatedAt: at, RequestID: id, OrganizationID: 1, ServiceID: 2,
		Request: []byte(`{"q":"` + id + `"}`), Response: []byte(`{"a":"ok"}`), ExpiresAt: expires}
}

// TestQueueFullDrops holds the writer in its first insert: the queue then
// fills, and a capture beyond it is dropped and counted at once instead of
// waiting; released, the writer stores every capture it accepted.
func TestQueueFullDrops(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		w := NewWriter(db, testRing(t), Options{QueueSize: 2, BatchSize: 1})
		entered, release := make(chan struct{}), make(chan struct{})
		insert := w.insert
		// Set before the first Add, whose hand-over the writer's read follows.
		w.insert = func(ctx context.Context, rows []*ent.RequestBodyCreate) error {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
			return insert(ctx, rows)
		}
		now := time.Now()
		if !w.Add(capture("a", now, now.Add(time.Hour))) {
			t.Fatal("the first capture was dropped")
		}
		<-entered // the writer holds "a" and waits
		for _, id := range []string{"b", "c"} {
			if !w.Add(capture(id, now, now.Add(time.Hour))) {
				t.Fatalf("capture %s was dropped with room in the queue", id)
			}
		}
		done := make(chan bool)
		go func() { done <- w.Add(capture("d", now, now.Add(time.Hour))) }()
		select {
		case kept := <-done:
			if kept || w.Dropped() != 1 {
				t.Fatalf("Add to a full queue = %v, dropped %d; want false, 1", kept, w.Dropped())
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Add blocked on a full queue")
		}
		close(release)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := db.Client.RequestBody.Query().CountX(context.Background()); n != 3 || w.Written() != 3 {
			t.Fatalf("stored %d (written %d), want the 3 accepted", n, w.Written())
		}
		if w.Add(capture("e", now, now.Add(time.Hour))) || w.Dropped() != 2 {
			t.Fatalf("Add after Close kept a capture or did not count it (dropped %d)", w.Dropped())
		}
	})
}

// TestStoredSealedAndPruned writes captures through the writer: the stored
// column holds neither the body nor a secret in it, Of opens them redacted,
// and Prune deletes those past their retention and leaves the usage
// records.
func TestStoredSealedAndPruned(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		ring := testRing(t)
		instance, err := NewRedactor("redact", []string{`secret-word`})
		if err != nil {
			t.Fatal(err)
		}
		w := NewWriter(db, ring, Options{Redact: instance})
		now := time.Now().UTC().Truncate(time.Millisecond)
		old := capture("req-old", now.Add(-8*24*time.Hour), now.Add(-24*time.Hour))
		fresh := capture("req-fresh", now, now.Add(7*24*time.Hour))
		fresh.Request = []byte(`{"model":"m","messages":[{"content":"my key is sk-proj-AbCdEfGh1234567890 and secret-word"}]}`)
		fresh.ResponseTruncated = true
		w.Add(old)
		w.Add(fresh)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := db.SQL.QueryRowContext(ctx, database.Rebind(db.Dialect, `SELECT ciphertext FROM request_bodies WHERE expires_at > ?`), now).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		for _, plain := range []string{"messages", "sk-proj", "secret-word", "redacted"} {
			if strings.Contains(string(raw), plain) {
				t.Fatalf("the stored column holds %q in clear", plain)
			}
		}
		for _, id := range []string{"req-old", "req-fresh"} {
			db.Client.UsageRecord.Create().SetCreatedAt(now).SetRequestID(id).SetOrganizationID(1).SetServiceID(2).SetAPIKeyID(3).
				SetProtocol("openai").SetEndpoint("/v1/chat/completions").SetModel("m").SetStatus(200).ExecX(ctx)
		}
		rec := db.Client.UsageRecord.Query().FirstX(ctx)
		rec.RequestID = "req-fresh"
		got, err := Of(ctx, db.Client, ring, rec)
		if err != nil || got == nil {
			t.Fatalf("Of = %v, %v", got, err)
		}
		want := `{"model":"m","messages":[{"content":"my key is [redacted] and [redacted]"}]}`
		if got.Request != want || got.Response != `{"a":"ok"}` || got.RequestTruncated || !got.ResponseTruncated {
			t.Fatalf("opened %+v, want request %s", got, want)
		}
		n, err := Prune(ctx, db, now)
		if err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v; want the expired one", n, err)
		}
		if ids := db.Client.RequestBody.Query().AllX(ctx); len(ids) != 1 || ids[0].RequestID != "req-fresh" {
			t.Fatalf("left %v, want req-fresh", ids)
		}
		if n := db.Client.UsageRecord.Query().CountX(ctx); n != 2 {
			t.Fatalf("usage records left: %d, want 2", n)
		}
	})
}

// TestRecorderCaps keeps at most the cap of the answer, however it is
// written, and marks what was cut; the errors mode keeps only failures,
// and does not copy a success's answer at all.
func TestRecorderCaps(t *testing.T) {
	p, err := Compile(&schema.BodyCapture{Mode: schema.CaptureErrors, MaxBytes: MinMaxBytes, RetentionDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	chunk := strings.Repeat("x", 700)
	answer := func(status int) (*Recorder, *httptest.ResponseRecorder) {
		rw := httptest.NewRecorder()
		r := p.Record(rw)
		if status != 0 {
			r.WriteHeader(status)
		}
		for range 3 {
			if _, err := r.Write([]byte(chunk)); err != nil {
				t.Fatal(err)
			}
		}
		if rw.Body.Len() != 2100 {
			t.Fatalf("the client got %d bytes, want all 2100", rw.Body.Len())
		}
		return r, rw
	}
	for _, status := range []int{0, 200} { // 0: no WriteHeader, an implicit 200
		ok, _ := answer(status)
		if _, kept := ok.Capture(Request{Status: 200}); kept || ok.kept != nil {
			t.Fatalf("the errors mode kept or copied a success (%d bytes)", len(ok.kept))
		}
	}
	r, rw := answer(502)
	if rw.Code != 502 {
		t.Fatalf("the client got %d, want 502", rw.Code)
	}
	c, ok := r.Capture(Request{Status: 502, Body: []byte(strings.Repeat("y", 2000))})
	if !ok || len(c.Response) != MinMaxBytes || !c.ResponseTruncated || len(c.Request) != MinMaxBytes || !c.RequestTruncated {
		t.Fatalf("kept %d/%v of the answer and %d/%v of the request; want %d, cut", len(c.Response), c.ResponseTruncated, len(c.Request), c.RequestTruncated, MinMaxBytes)
	}
	if off, err := Compile(&schema.BodyCapture{Mode: schema.CaptureOff}); off != nil || err != nil {
		t.Fatalf("Compile(off) = %v, %v; want nil", off, err)
	}
}

// TestRotate: the bodies sealed under an old master key are re-sealed
// under the keyring's primary one, each readable with the new key alone
// and as it was; those already under it are left; the count is of those
// rewritten, across more than one page of ids.
func TestRotate(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		oldKey, newKey := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
		oldRing, _ := secrets.NewKeyring(oldKey)
		newRing, _ := secrets.NewKeyring(newKey)
		both, _ := secrets.NewKeyring(newKey, oldKey)
		at := time.Now().UTC()
		const old, current = 503, 2 // past a page of 500
		for i := range old + current {
			ring := oldRing
			if i >= old {
				ring = newRing
			}
			c := capture(fmt.Sprintf("req-%d", i), at, at.Add(time.Hour))
			sealed, err := seal(ring, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Client.RequestBody.Create().SetCreatedAt(c.CreatedAt).SetRequestID(c.RequestID).SetOrganizationID(c.OrganizationID).
				SetServiceID(c.ServiceID).SetExpiresAt(c.ExpiresAt).SetKeyID(sealed.KeyID).SetCiphertext([]byte(sealed.Ciphertext)).ExecX(ctx)
		}
		n, err := Rotate(ctx, db.Client, both)
		if err != nil || n != old {
			t.Fatalf("Rotate = %d, %v; want the %d bodies under the old key", n, err, old)
		}
		rows := db.Client.RequestBody.Query().AllX(ctx)
		if len(rows) != old+current {
			t.Fatalf("%d bodies after the rotation, want %d", len(rows), old+current)
		}
		for _, row := range rows {
			b, err := open(newRing, row)
			if err != nil {
				t.Fatalf("body of %s does not open with the new key alone: %v", row.RequestID, err)
			}
			if want := `{"q":"` + row.RequestID + `"}`; b.Request != want || b.Response != `{"a":"ok"}` {
				t.Fatalf("body of %s reads %q / %q after the rotation", row.RequestID, b.Request, b.Response)
			}
		}
		if n, err := Rotate(ctx, db.Client, both); err != nil || n != 0 {
			t.Fatalf("a second rotation = %d, %v; want nothing to do", n, err)
		}
	})
}
