package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/tenant"
)

// ownedRecordsScope is the context to count the usage records where
// selects in. When where names, at its top level, one client key
// (apiKeyID) or one service (serviceID) of the viewer's organization, it
// is a context that does not check each record's organization: every
// record of a key or service is its organization's (a record is written
// with its key's organization, and neither a key's nor a service's
// organization ever changes), so the check is made once, on the key or
// service. The key's or service's index then answers the count alone,
// where PostgreSQL fetched each record counted (up to the cap) from the
// table to read its organization. The records listed are still checked
// one by one (they are read whole anyway), so that a record naming this
// organization's key but another organization is never shown. Otherwise,
// and for a key or service the viewer cannot see (or one deleted since),
// or when nothing is counted, ctx is returned as it is.
func ownedRecordsScope(ctx context.Context, client *ent.Client, where *ent.UsageRecordWhereInput) (context.Context, error) {
	var owned bool
	var err error
	switch {
	case where == nil || !countAsked(ctx):
	case where.APIKeyID != nil:
		owned, err = client.APIKey.Query().Where(apikey.ID(*where.APIKeyID)).Exist(ctx)
	case where.ServiceID != nil:
		owned, err = client.Service.Query().Where(service.ID(*where.ServiceID)).Exist(ctx)
	}
	if err != nil || !owned {
		return ctx, err
	}
	return tenant.System(ctx), nil
}

// usageRecordsOfModels is a page of the usage log filtered by text that
// several of the organization's models contain: each model's records are
// paged through the (organization, model, time) index and the pages are
// merged, since one text match reads the organization's records of every
// model to sort them. where keeps the text match, so each part finds what
// the text match finds of its model.
func (r *queryResolver) usageRecordsOfModels(ctx context.Context, models []string, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int, orderBy *ent.UsageRecordOrder, where *ent.UsageRecordWhereInput) (*ent.UsageRecordConnection, error) {
	pages := make([][]*ent.UsageRecordEdge, len(models))
	infos := make([]ent.PageInfo, len(models))
	for i, m := range models {
		page, err := r.Client.UsageRecord.Query().Where(usagerecord.Model(m)).Paginate(withoutCount(ctx), after, first, before, last,
			ent.WithUsageRecordOrder(orderBy), ent.WithUsageRecordFilter(where.Filter))
		if err != nil {
			return nil, err
		}
		pages[i], infos[i] = page.Edges, page.PageInfo
	}
	precedes := usageOrder(orderBy)
	edges, more := mergeEdges(pages, func(x, y *ent.UsageRecordEdge) bool { return precedes(x.Node, y.Node) }, first, last)
	conn := &ent.UsageRecordConnection{Edges: edges, PageInfo: mergedPageInfo(infos, more, first, last)}
	if n := len(edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &edges[0].Cursor, &edges[n-1].Cursor
	}
	// One count over the models together: a capped count per model would
	// walk up to the cap in each.
	all, err := where.Filter(r.Client.UsageRecord.Query().Where(usagerecord.ModelIn(models...)))
	if err != nil {
		return nil, err
	}
	countCtx, err := ownedRecordsScope(ctx, r.Client, where)
	if err != nil {
		return nil, err
	}
	return conn, countTotal(countCtx, r.loader(ctx), conn, &conn.TotalCount, all, logCountCap, usagerecord.FieldCreatedAt)
}

// usageOrder reports whether record x comes before y in order, as the
// database orders them: by the order's field, then by id, both in the
// order's direction; by id ascending without an order. It is for the
// orders mergedUsageOrder accepts.
func usageOrder(order *ent.UsageRecordOrder) func(x, y *ent.UsageRecord) bool {
	desc := order != nil && order.Direction == entgql.OrderDirectionDesc
	key := func(*ent.UsageRecord) int64 { return 0 }
	if order != nil && order.Field != nil {
		switch f := order.Field; {
		case sameField(f, ent.UsageRecordOrderFieldCreatedAt):
			key = func(u *ent.UsageRecord) int64 { return u.CreatedAt.UnixNano() }
		case sameField(f, ent.UsageRecordOrderFieldCost):
			key = func(u *ent.UsageRecord) int64 { return int64(u.Cost) }
		case sameField(f, ent.UsageRecordOrderFieldLatencyUs):
			key = func(u *ent.UsageRecord) int64 { return u.LatencyUs }
		}
	}
	return func(x, y *ent.UsageRecord) bool { return byThenID(key(x), key(y), x.ID, y.ID, desc) }
}

// mergedUsageOrder reports whether pages of the usage log in order can be
// merged in Go as the database would order them: by a number, a time or
// the id, whose order is the same everywhere, unlike the model's text,
// which depends on the database's collation.
func mergedUsageOrder(order *ent.UsageRecordOrder) bool {
	return order == nil || order.Field == nil || sameField(order.Field, ent.UsageRecordOrderFieldCreatedAt) ||
		sameField(order.Field, ent.UsageRecordOrderFieldCost) || sameField(order.Field, ent.UsageRecordOrderFieldLatencyUs)
}
