package graph

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/graph/model"
	"github.com/sluicehq/sluice/rollup"
)

// maxSplitGroups bounds the groups of one split: each carries a series.
const maxSplitGroups = 100

// usageSplit is a report's split, its first groups named: a model by
// itself, a service or key by its name in the organization, or its ID
// once it is deleted.
func (r *Resolver) usageSplit(ctx context.Context, rep *rollup.Report, by rollup.SplitBy, first int) ([]*model.UsageGroup, error) {
	if first < 0 || first > maxSplitGroups {
		return nil, FieldErrorf("first", "first is %d; a split holds from 0 to %d groups", first, maxSplitGroups)
	}
	groups, err := rollup.Split(ctx, r.DB, rep.Filter, rep.Bucket, by)
	if err != nil {
		return nil, err
	}
	groups = groups[:min(first, len(groups))]
	names, err := r.groupNames(ctx, rep.Filter.OrgID, by, groups)
	if err != nil {
		return nil, err
	}
	out := make([]*model.UsageGroup, len(groups))
	for i := range groups {
		g := &groups[i]
		name := names[g.Key]
		if name == "" {
			name = g.Key
		}
		series := make([]*rollup.Point, len(g.Series))
		for j := range g.Series {
			series[j] = &g.Series[j]
		}
		out[i] = &model.UsageGroup{Key: g.Key, Name: name, Sums: &g.Sums, Series: series}
	}
	return out, nil
}

// groupNames reads the names of the services or keys that groups name,
// by ID, in one query.
func (r *Resolver) groupNames(ctx context.Context, orgID int, by rollup.SplitBy, groups []rollup.Group) (map[string]string, error) {
	if by == rollup.SplitModel || len(groups) == 0 {
		return nil, nil
	}
	ids := make([]int, 0, len(groups))
	for _, g := range groups {
		id, err := strconv.Atoi(g.Key)
		if err != nil {
			return nil, fmt.Errorf("usage split: group %q: %w", g.Key, err)
		}
		ids = append(ids, id)
	}
	names := map[string]string{}
	if by == rollup.SplitService {
		list, err := r.Client.Service.Query().Where(service.OrganizationID(orgID), service.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("usage split: service names: %w", err)
		}
		for _, s := range list {
			names[strconv.Itoa(s.ID)] = s.ServiceName
		}
		return names, nil
	}
	list, err := r.Client.APIKey.Query().Where(apikey.OrganizationID(orgID), apikey.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("usage split: key names: %w", err)
	}
	for _, k := range list {
		names[strconv.Itoa(k.ID)] = k.Name
	}
	return names, nil
}
