package bodycapture

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/requestbody"
	"github.com/sluicehq/sluice/secrets"
)

// aad binds a sealed blob to its request: a blob copied to another row
// does not open.
func aad(requestID string) string { return "request_body:" + requestID }

// seal redacts c's bodies (built-in shapes, the service's patterns, then
// instance's), frames them (the request's length as a uvarint, the
// request, the response), compresses and seals the frame.
func seal(ring *secrets.Keyring, c Capture, instance *Redactor) (secrets.Sealed, error) {
	req := Redact(c.Request, c.redact, instance)
	resp := Redact(c.Response, c.redact, instance)
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed) // the level is valid
	var n [binary.MaxVarintLen64]byte
	_, _ = zw.Write(n[:binary.PutUvarint(n[:], uint64(len(req)))])
	_, _ = zw.Write(req)
	_, _ = zw.Write(resp)
	if err := zw.Close(); err != nil {
		return secrets.Sealed{}, fmt.Errorf("compress: %w", err)
	}
	return ring.Seal(buf.String(), aad(c.RequestID))
}

// Bodies are a request's captured bodies, opened.
type Bodies struct {
	CapturedAt        time.Time
	ExpiresAt         time.Time
	Request           string
	Response          string
	RequestTruncated  bool
	ResponseTruncated bool
}

// maxFrame bounds what a stored frame may inflate to: two bodies at the
// largest cap and their length.
const maxFrame = 2*MaxMaxBytes + binary.MaxVarintLen64

// open reverses seal.
func open(ring *secrets.Keyring, row *ent.RequestBody) (*Bodies, error) {
	plain, err := ring.Open(secrets.Sealed{KeyID: row.KeyID, Ciphertext: row.Ciphertext}, aad(row.RequestID))
	if err != nil {
		return nil, err
	}
	frame, err := io.ReadAll(io.LimitReader(flate.NewReader(strings.NewReader(plain)), maxFrame+1))
	if err != nil {
		return nil, fmt.Errorf("inflate captured bodies: %w", err)
	}
	n, size := binary.Uvarint(frame)
	if size <= 0 || len(frame) > maxFrame || n > uint64(len(frame)-size) {
		return nil, errors.New("captured bodies are malformed")
	}
	rest := frame[size:]
	return &Bodies{
		CapturedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt,
		Request: strings.ToValidUTF8(string(rest[:n]), "\uFFFD"), Response: strings.ToValidUTF8(string(rest[n:]), "\uFFFD"),
		RequestTruncated: row.RequestTruncated, ResponseTruncated: row.ResponseTruncated,
	}, nil
}

// Of returns the bodies captured of rec, opened; nil when none were
// kept (or they expired). A request id a client reused is told apart by
// its service and the time it began.
func Of(ctx context.Context, client *ent.Client, ring *secrets.Keyring, rec *ent.UsageRecord) (*Bodies, error) {
	row, err := client.RequestBody.Query().
		Where(requestbody.RequestID(rec.RequestID), requestbody.OrganizationID(rec.OrganizationID),
			requestbody.ServiceID(rec.ServiceID),
			requestbody.CreatedAtGTE(rec.CreatedAt.Add(-time.Second)), requestbody.CreatedAtLTE(rec.CreatedAt.Add(time.Second)),
			// Expired bodies wait for the daily prune but are not shown.
			requestbody.ExpiresAtGT(time.Now())).
		Order(ent.Desc(requestbody.FieldCreatedAt)).
		First(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("look up captured bodies: %w", err)
	}
	return open(ring, row)
}

// sqlPrune deletes a batch of the bodies whose retention ended.
var sqlPrune = fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE %[3]s < ? LIMIT ?)`,
	requestbody.Table, requestbody.FieldID, requestbody.FieldExpiresAt)

// Prune deletes the bodies whose retention ended before now, in batches;
// usage records are left alone.
func Prune(ctx context.Context, db *database.DB, now time.Time) (int64, error) {
	n, err := db.DeleteBefore(ctx, sqlPrune, now.UTC())
	if err != nil {
		return n, fmt.Errorf("prune captured bodies: %w", err)
	}
	return n, nil
}

// Rotate re-seals every captured body still under an old master key with
// the keyring's primary one and returns how many it rewrote. It runs
// beside the provider keys' rotation. The ids are listed a page at a time
// and each body read alone, so that memory holds one body (up to a
// megabyte a side) rather than a page of them.
func Rotate(ctx context.Context, client *ent.Client, kr *secrets.Keyring) (int, error) {
	const page = 500
	n, after := 0, 0
	for {
		ids, err := client.RequestBody.Query().
			Where(requestbody.IDGT(after), requestbody.KeyIDNEQ(kr.PrimaryID())).
			Order(ent.Asc(requestbody.FieldID)).Limit(page).IDs(ctx)
		if err != nil {
			return n, fmt.Errorf("list captured bodies: %w", err)
		}
		for _, id := range ids {
			after = id
			row, err := client.RequestBody.Get(ctx, id)
			if ent.IsNotFound(err) {
				continue // pruned since it was listed
			}
			if err != nil {
				return n, fmt.Errorf("captured body %d: %w", id, err)
			}
			sealed, _, err := kr.Reseal(secrets.Sealed{KeyID: row.KeyID, Ciphertext: row.Ciphertext}, aad(row.RequestID))
			if err != nil {
				return n, fmt.Errorf("captured body %d: %w", id, err)
			}
			if err := client.RequestBody.UpdateOneID(id).SetKeyID(sealed.KeyID).SetCiphertext(sealed.Ciphertext).Exec(ctx); err != nil {
				return n, fmt.Errorf("captured body %d: write re-sealed: %w", id, err)
			}
			n++
		}
		if len(ids) < page {
			return n, nil
		}
	}
}
