// Package usageexport serves the usage log as CSV: the records a
// UsageRecordWhereInput selects (the filter the GraphQL usageRecords query
// and the dashboard's usage log take), newest first, read in keyset pages
// and written as they are read, so an export of any size holds one page in
// memory.
package usageexport

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/predicate"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/usagewhere"
)

// PageSize is how many records one read fetches and one flush sends.
const PageSize = 1000

// Header is the CSV's first row.
var Header = []string{"time", "request_id", "service", "key", "model", "protocol", "endpoint", "status",
	"input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "cost_usd", "latency_ms", "streamed", "error"}

// Handler serves GET ?where=<UsageRecordWhereInput as JSON> as a CSV
// attachment, to the viewer auth.Authenticator's middleware put in the
// request context, reading through that context so only the viewer's
// organization's records are seen.
//
// One export runs at a time per organization, and MaxExports in all; one
// more is refused with 429 and Retry-After.
func Handler(client *ent.Client, log *slog.Logger) http.Handler {
	var exports gate
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if auth.ViewerFrom(ctx) == nil {
			status, msg := http.StatusUnauthorized, "log in, or send a management key as a bearer token"
			if err := auth.AuthErrorFrom(ctx); errors.Is(err, auth.ErrLookup) {
				status, msg = http.StatusServiceUnavailable, "credentials could not be checked; try again"
			} else if err != nil {
				msg = err.Error()
			}
			writeDetail(w, status, msg)
			return
		}
		var where *ent.UsageRecordWhereInput
		if s := r.URL.Query().Get("where"); s != "" {
			if err := json.Unmarshal([]byte(s), &where); err != nil {
				writeDetail(w, http.StatusBadRequest, "where: not a UsageRecordWhereInput as JSON: "+err.Error())
				return
			}
		}
		if err := usagewhere.Check(where); err != nil {
			writeDetail(w, http.StatusBadRequest, err.Error())
			return
		}
		org := auth.ViewerFrom(ctx).OrgID
		// Several models containing the text stay one text match: an
		// export reads every match anyway.
		if _, err := usagewhere.Narrow(ctx, client, org, where); err != nil {
			log.ErrorContext(ctx, "usage export", "err", err)
			writeDetail(w, http.StatusServiceUnavailable, "the models in use could not be read; try again")
			return
		}
		var filter predicate.UsageRecord
		if where != nil {
			p, err := where.P()
			if err != nil && !errors.Is(err, ent.ErrEmptyUsageRecordWhereInput) {
				writeDetail(w, http.StatusBadRequest, "where: "+err.Error())
				return
			}
			filter = p
		}
		if ok, why := exports.enter(org); !ok {
			w.Header().Set("Retry-After", "30")
			writeDetail(w, http.StatusTooManyRequests, why)
			return
		}
		defer exports.leave(org)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="usage-%s.csv"`, time.Now().UTC().Format("20060102-150405")))
		w.Header().Set("Cache-Control", "no-store")
		rc := http.NewResponseController(w)
		if err := Write(ctx, client, filter, w, func() { _ = rc.Flush() }); err != nil {
			// The status is sent; the truncated body is all that can tell.
			log.ErrorContext(ctx, "usage export stopped", "err", err)
		}
	})
}

// Write writes the header and every record filter selects (all when nil)
// to out as CSV, newest first, calling flush after each page.
func Write(ctx context.Context, client *ent.Client, filter predicate.UsageRecord, out io.Writer, flush func()) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(Header); err != nil {
		return fmt.Errorf("write usage export: %w", err)
	}
	names := newNames(client)
	var last *ent.UsageRecord
	row := make([]string, len(Header))
	for {
		q := client.UsageRecord.Query()
		if filter != nil {
			q.Where(filter)
		}
		if last != nil {
			q.Where(after(last))
		}
		page, err := q.Order(ent.Desc(usagerecord.FieldCreatedAt), ent.Desc(usagerecord.FieldID)).Limit(PageSize).All(ctx)
		if err != nil {
			return fmt.Errorf("read usage records: %w", err)
		}
		if err := names.load(ctx, page); err != nil {
			return err
		}
		for _, rec := range page {
			fill(row, rec, names)
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("write usage export: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write usage export: %w", err)
		}
		flush()
		if len(page) < PageSize {
			return nil
		}
		last = page[len(page)-1]
	}
}

// after selects the records that follow last, newest first: a row-value
// comparison, which both databases run as one range of an index ending in
// (created_at, id).
func after(last *ent.UsageRecord) predicate.UsageRecord {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("(").WriteString(s.C(usagerecord.FieldCreatedAt)).Comma().WriteString(s.C(usagerecord.FieldID)).
				WriteString(") < (").Arg(last.CreatedAt).Comma().Arg(last.ID).WriteString(")")
		}))
	}
}

// fill sets row to rec's cells.
func fill(row []string, rec *ent.UsageRecord, n *names) {
	row[0] = rec.CreatedAt.UTC().Format(time.RFC3339Nano)
	row[1] = text(rec.RequestID)
	row[2] = text(n.services[rec.ServiceID])
	row[3] = text(n.keys[rec.APIKeyID])
	row[4] = text(rec.Model)
	row[5] = text(rec.Protocol)
	row[6] = text(rec.Endpoint)
	row[7] = strconv.Itoa(rec.Status)
	row[8] = strconv.FormatInt(rec.InputTokens, 10)
	row[9] = strconv.FormatInt(rec.OutputTokens, 10)
	row[10] = strconv.FormatInt(rec.CachedInputTokens, 10)
	row[11] = strconv.FormatInt(rec.CacheWriteTokens, 10)
	row[12] = ""
	if rec.Priced {
		row[12] = rec.Cost.Decimal()
	}
	row[13] = fmt.Sprintf("%d.%03d", rec.LatencyUs/1000, rec.LatencyUs%1000)
	row[14] = strconv.FormatBool(rec.Streamed)
	row[15] = text(rec.Error)
}

// text is a text cell that a spreadsheet will not run as a formula: one
// beginning with = + - @ (or a tab or carriage return, which some strip
// first) is prefixed with an apostrophe.
func text(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

// names are the service and key names an export has met, looked up a page
// at a time through the export's (organization-scoped) context.
type names struct {
	client   *ent.Client
	services map[int]string
	keys     map[int]string
}

func newNames(client *ent.Client) *names {
	return &names{client: client, services: map[int]string{}, keys: map[int]string{}}
}

// load looks up the names of a page's services and keys not met before.
func (n *names) load(ctx context.Context, page []*ent.UsageRecord) error {
	var svcs, keys []int
	for _, r := range page {
		if _, ok := n.services[r.ServiceID]; !ok {
			n.services[r.ServiceID] = ""
			svcs = append(svcs, r.ServiceID)
		}
		if _, ok := n.keys[r.APIKeyID]; !ok {
			n.keys[r.APIKeyID] = ""
			keys = append(keys, r.APIKeyID)
		}
	}
	if len(svcs) > 0 {
		found, err := n.client.Service.Query().Where(service.IDIn(svcs...)).Select(service.FieldID, service.FieldServiceName).All(ctx)
		if err != nil {
			return fmt.Errorf("look up service names: %w", err)
		}
		for _, s := range found {
			n.services[s.ID] = s.ServiceName
		}
	}
	if len(keys) > 0 {
		found, err := n.client.APIKey.Query().Where(apikey.IDIn(keys...)).Select(apikey.FieldID, apikey.FieldName).All(ctx)
		if err != nil {
			return fmt.Errorf("look up key names: %w", err)
		}
		for _, k := range found {
			n.keys[k.ID] = k.Name
		}
	}
	return nil
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}
