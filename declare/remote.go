package declare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sluicehq/sluice/ent/schema"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/usererr"
)

// Remote applies a file to a running gateway through its admin GraphQL
// API, as the management key Key: the organization is the key's, and the
// gateway audits every change as that key.
type Remote struct {
	// URL is the gateway's base URL, e.g. https://sluice.example.com.
	URL  string
	Key  string
	HTTP *http.Client
}

// Run reads the state, plans the file against it and, unless dryRun,
// applies the plan one mutation at a time in dependency order; a failure
// part way is a *PartialError listing what was done.
func (r *Remote) Run(ctx context.Context, f *File, opts Options, dryRun bool) (*Plan, error) {
	cur, err := r.ReadState(ctx)
	if err != nil {
		return nil, err
	}
	p, err := MakePlan(f, cur, opts)
	if err != nil || dryRun || p.Empty() {
		return p, err
	}
	return p, Apply(ctx, r, cur, p)
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"extensions"`
}

// call posts one operation and decodes its data into out.
func (r *Remote) call(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.URL, "/")+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.Key)
	client := r.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("call the admin API: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the admin API's answer: %w", err)
	}
	var ans struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("the admin API answered %s, not GraphQL: %.200s", resp.Status, raw)
	}
	if len(ans.Errors) > 0 {
		e := ans.Errors[0]
		return &usererr.Error{Code: usererr.Code(e.Extensions.Code), Message: e.Message, Field: e.Extensions.Field}
	}
	if resp.StatusCode != http.StatusOK {
		// Something in front of the gateway answered (a proxy's error page).
		return fmt.Errorf("the admin API answered %s: %.200s", resp.Status, raw)
	}
	if out == nil {
		return nil
	}
	if len(ans.Data) == 0 || string(ans.Data) == "null" {
		return errors.New("the admin API answered without data")
	}
	return json.Unmarshal(ans.Data, out)
}

// id reads an ID, which the API writes as a string.
type id int

func (i *id) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		return nil
	}
	n, err := strconv.Atoi(s)
	*i = id(n)
	return err
}

// limitFields reads an organization's or a service's limits under the
// names a file gives them, so that they decode as Limits.
const limitFields = `rpm: limitRpm tpm: limitTpm concurrency: limitConcurrency costHourWarn: limitCostHourWarn costHourBlock: limitCostHourBlock ` +
	`costDayWarn: limitCostDayWarn costDayBlock: limitCostDayBlock costMonthWarn: limitCostMonthWarn costMonthBlock: limitCostMonthBlock costTotalBlock: limitCostTotalBlock`

// pageSize is how many items one page of a list asks for.
const pageSize = 100

// pages reads every page of a connection: field is the query's field,
// selection the node's fields; each node is handed to add.
func (r *Remote) pages(ctx context.Context, field, selection string, add func(json.RawMessage) error) error {
	var after *string
	for {
		q := fmt.Sprintf(`query($first: Int!, $after: Cursor) { list: %s(first: $first, after: $after) { edges { node { %s } } pageInfo { hasNextPage endCursor } } }`, field, selection)
		var out struct {
			List struct {
				Edges []struct {
					Node json.RawMessage `json:"node"`
				} `json:"edges"`
				PageInfo struct {
					HasNextPage bool    `json:"hasNextPage"`
					EndCursor   *string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"list"`
		}
		if err := r.call(ctx, q, map[string]any{"first": pageSize, "after": after}, &out); err != nil {
			return fmt.Errorf("read %s: %w", field, err)
		}
		for _, e := range out.List.Edges {
			if err := add(e.Node); err != nil {
				return err
			}
		}
		if !out.List.PageInfo.HasNextPage {
			return nil
		}
		after = out.List.PageInfo.EndCursor
	}
}

// ReadState reads what the key's organization has, and the shared
// catalogs when the key is an instance admin's.
func (r *Remote) ReadState(ctx context.Context) (*State, error) {
	st := NewState()
	var who struct {
		Viewer *struct {
			IsInstanceAdmin bool   `json:"isInstanceAdmin"`
			Role            string `json:"role"`
			Organization    struct {
				Name string `json:"name"`
				Limits
			} `json:"organization"`
		} `json:"viewer"`
		Settings struct {
			AllowOverwrite  bool    `json:"allowOverwrite"`
			AlertWebhookURL *string `json:"alertWebhookURL"`
		} `json:"projectSettings"`
	}
	if err := r.call(ctx, `{ viewer { isInstanceAdmin role organization { name `+limitFields+` } } projectSettings { allowOverwrite alertWebhookURL } }`, nil, &who); err != nil {
		return nil, fmt.Errorf("read the organization: %w", err)
	}
	if who.Viewer == nil {
		return nil, errors.New("the admin API did not accept the management key (SLUICE_MANAGEMENT_KEY): it is unknown, revoked or expired")
	}
	if who.Viewer.Role != "admin" {
		return nil, errors.New("the key may only read this organization: apply needs an admin's management key")
	}
	st.Organization = who.Viewer.Organization.Name
	st.InstanceAdmin = who.Viewer.IsInstanceAdmin
	l := normalLimits(&who.Viewer.Organization.Limits)
	st.Limits = &l
	st.Settings = &Settings{AllowOverwrite: boolp(who.Settings.AllowOverwrite)}
	if u := who.Settings.AlertWebhookURL; u != nil && *u != "" {
		st.Webhook = SecretState{Set: true, Hint: *u}
		st.Settings.AlertWebhookURL = &Secret{Env: WebhookEnv}
	}

	if st.InstanceAdmin {
		var stds struct {
			List []APIStandard `json:"apiStandards"`
		}
		if err := r.call(ctx, `{ apiStandards { handle: apiStandardHandle description keyMethod keyField } }`, nil, &stds); err != nil {
			return nil, fmt.Errorf("read API standards: %w", err)
		}
		st.APIStandards = stds.List
		err := r.pages(ctx, "modelPrices", `id provider model inputPerMtok outputPerMtok cachedInputPerMtok cacheWritePerMtok cacheWrite1hPerMtok kind maxOutputTokens description customized`,
			func(raw json.RawMessage) error {
				var p struct {
					ID         id   `json:"id"`
					Customized bool `json:"customized"`
					Price
				}
				if err := json.Unmarshal(raw, &p); err != nil {
					return err
				}
				key := p.Provider + "/" + p.Model
				st.PriceIDs[key], st.Customized[key] = int(p.ID), p.Customized
				st.Prices = append(st.Prices, normalPrice(p.Price))
				return nil
			})
		if err != nil {
			return nil, err
		}
	}

	err := r.pages(ctx, "providerCredentials", `id provider accountKey displayName hasApiKey apiKeyLastFour baseUrl active apiStandard { apiStandardHandle }`,
		func(raw json.RawMessage) error {
			var c struct {
				ID          id      `json:"id"`
				Provider    string  `json:"provider"`
				AccountKey  string  `json:"accountKey"`
				DisplayName string  `json:"displayName"`
				HasAPIKey   bool    `json:"hasApiKey"`
				LastFour    *string `json:"apiKeyLastFour"`
				BaseURL     *string `json:"baseUrl"`
				Active      bool    `json:"active"`
				APIStandard *struct {
					Handle string `json:"apiStandardHandle"`
				} `json:"apiStandard"`
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				return err
			}
			key := credKey(c.Provider, c.AccountKey)
			st.CredIDs[key], st.CredNames[int(c.ID)] = int(c.ID), key
			cr := Credential{Name: c.AccountKey, Provider: c.Provider, DisplayName: c.DisplayName, Active: boolp(c.Active)}
			if c.BaseURL != nil {
				cr.BaseURL = *c.BaseURL
			}
			if c.APIStandard != nil {
				cr.APIStandard = c.APIStandard.Handle
			}
			if c.HasAPIKey {
				ks := SecretState{Set: true}
				if c.LastFour != nil {
					ks.Hint = *c.LastFour
				}
				st.Keys[key] = ks
			}
			st.Credentials = append(st.Credentials, normalCredential(cr))
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = r.pages(ctx, "services", `id serviceName provider description credentialID modelsEnabled allowUnpricedModels active requestDefaults bodyCapture { mode samplePercent maxBytes retentionDays redact } `+limitFields+` targets { id credentialID weight enabled modelMap }`,
		func(raw json.RawMessage) error {
			var s struct {
				ID                  id             `json:"id"`
				ServiceName         string         `json:"serviceName"`
				Provider            string         `json:"provider"`
				Description         string         `json:"description"`
				CredentialID        *id            `json:"credentialID"`
				ModelsEnabled       []string       `json:"modelsEnabled"`
				AllowUnpricedModels bool           `json:"allowUnpricedModels"`
				Active              bool           `json:"active"`
				RequestDefaults     map[string]any `json:"requestDefaults"`
				BodyCapture         struct {
					Mode          schema.CaptureMode `json:"mode"`
					SamplePercent int                `json:"samplePercent"`
					MaxBytes      int                `json:"maxBytes"`
					RetentionDays int                `json:"retentionDays"`
					Redact        []string           `json:"redact"`
				} `json:"bodyCapture"`
				Limits
				Targets []struct {
					ID           id                `json:"id"`
					CredentialID id                `json:"credentialID"`
					Weight       int               `json:"weight"`
					Enabled      bool              `json:"enabled"`
					ModelMap     map[string]string `json:"modelMap"`
				} `json:"targets"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			sv := Service{Name: s.ServiceName, Provider: s.Provider, Description: s.Description, Models: s.ModelsEnabled,
				AllowUnpricedModels: s.AllowUnpricedModels, Active: boolp(s.Active), RequestDefaults: s.RequestDefaults,
				BodyCapture: (*schema.BodyCapture)(&s.BodyCapture)}
			l := normalLimits(&s.Limits)
			sv.Limits = &l
			if s.CredentialID != nil {
				sv.Credential = credName(st.CredNames[int(*s.CredentialID)])
			}
			st.ServiceIDs[s.ServiceName] = int(s.ID)
			st.TargetIDs[s.ServiceName] = map[string]int{}
			for _, t := range s.Targets {
				key := st.CredNames[int(t.CredentialID)]
				prov, name := splitCredKey(key)
				st.TargetIDs[s.ServiceName][key] = int(t.ID)
				sv.Targets = append(sv.Targets, Target{Credential: name, Provider: prov, Weight: t.Weight, Enabled: boolp(t.Enabled), ModelMap: t.ModelMap})
			}
			st.Services = append(st.Services, normalService(sv))
			return nil
		})
	if err != nil {
		return nil, err
	}
	st.sort()
	return st, nil
}

// mutate runs one mutation whose answer, if any, has an id.
func (r *Remote) mutate(ctx context.Context, query string, vars map[string]any) (int, error) {
	var out map[string]json.RawMessage
	if err := r.call(ctx, query, vars, &out); err != nil {
		return 0, err
	}
	v, ok := out["m"]
	if !ok || string(v) == "null" {
		return 0, errors.New("the admin API answered without the change's result")
	}
	var obj struct {
		ID id `json:"id"`
	}
	if json.Unmarshal(v, &obj) == nil {
		return int(obj.ID), nil
	}
	return 0, nil // a Boolean answer (a deletion)
}

func (r *Remote) exec(ctx context.Context, query string, vars map[string]any) error {
	_, err := r.mutate(ctx, query, vars)
	return err
}

// withInput runs a mutation taking one input, and returns the ID of the
// item it answers.
func (r *Remote) withInput(ctx context.Context, mutation, inputType string, in any) (int, error) {
	return r.mutate(ctx, fmt.Sprintf(`mutation($in: %s!) { m: %s(input: $in) { id } }`, inputType, mutation), map[string]any{"in": inputValue(in)})
}

// update runs a mutation taking an ID and an input.
func (r *Remote) update(ctx context.Context, mutation, inputType string, id int, in any) error {
	return r.exec(ctx, fmt.Sprintf(`mutation($id: ID!, $in: %s!) { m: %s(id: $id, input: $in) { id } }`, inputType, mutation), map[string]any{"id": id, "in": inputValue(in)})
}

// remove runs a mutation taking an ID and answering a Boolean.
func (r *Remote) remove(ctx context.Context, mutation string, id int) error {
	return r.exec(ctx, fmt.Sprintf(`mutation($id: ID!) { m: %s(id: $id) }`, mutation), map[string]any{"id": id})
}

func (r *Remote) PutAPIStandard(ctx context.Context, handle string, in manage.CreateAPIStandardInput) error {
	return r.exec(ctx, `mutation($h: String!, $in: CreateAPIStandardInput!) { m: putAPIStandard(handle: $h, input: $in) { id } }`,
		map[string]any{"h": handle, "in": inputValue(in)})
}

func (r *Remote) DeleteAPIStandard(ctx context.Context, handle string) error {
	return r.exec(ctx, `mutation($h: String!) { m: deleteAPIStandard(handle: $h) }`, map[string]any{"h": handle})
}

func (r *Remote) CreateModelPrice(ctx context.Context, in manage.CreateModelPriceInput) error {
	_, err := r.withInput(ctx, "createModelPrice", "CreateModelPriceInput", in)
	return err
}

func (r *Remote) UpdateModelPrice(ctx context.Context, id int, in manage.UpdateModelPriceInput) error {
	return r.update(ctx, "updateModelPrice", "UpdateModelPriceInput", id, in)
}

func (r *Remote) CreateProviderCredential(ctx context.Context, in manage.CreateProviderCredentialInput) (int, error) {
	return r.withInput(ctx, "createProviderCredential", "CreateProviderCredentialInput", in)
}

func (r *Remote) UpdateProviderCredential(ctx context.Context, id int, in manage.UpdateProviderCredentialInput) error {
	return r.update(ctx, "updateProviderCredential", "UpdateProviderCredentialInput", id, in)
}

func (r *Remote) DeleteProviderCredential(ctx context.Context, id int) error {
	return r.remove(ctx, "deleteProviderCredential", id)
}

func (r *Remote) CreateService(ctx context.Context, in manage.CreateServiceInput) (int, error) {
	return r.withInput(ctx, "createService", "CreateServiceInput", in)
}

func (r *Remote) UpdateService(ctx context.Context, id int, in manage.UpdateServiceInput) error {
	return r.update(ctx, "updateService", "UpdateServiceInput", id, in)
}

func (r *Remote) DeleteService(ctx context.Context, id int) error {
	return r.remove(ctx, "deleteService", id)
}

func (r *Remote) AddServiceTarget(ctx context.Context, serviceID int, in manage.AddServiceTargetInput) (int, error) {
	return r.mutate(ctx, `mutation($s: ID!, $in: AddServiceTargetInput!) { m: addServiceTarget(serviceId: $s, input: $in) { id } }`, map[string]any{"s": serviceID, "in": inputValue(in)})
}

func (r *Remote) UpdateServiceTarget(ctx context.Context, id int, in manage.UpdateServiceTargetInput) error {
	return r.update(ctx, "updateServiceTarget", "UpdateServiceTargetInput", id, in)
}

func (r *Remote) RemoveServiceTarget(ctx context.Context, id int) error {
	return r.remove(ctx, "removeServiceTarget", id)
}

func (r *Remote) ReorderServiceTargets(ctx context.Context, serviceID int, ids []int) error {
	return r.exec(ctx, `mutation($s: ID!, $ids: [ID!]!) { m: reorderServiceTargets(serviceId: $s, targetIds: $ids) { id } }`, map[string]any{"s": serviceID, "ids": ids})
}

func (r *Remote) UpdateProjectSettings(ctx context.Context, in manage.UpdateProjectSettingsInput) error {
	_, err := r.withInput(ctx, "updateProjectSettings", "UpdateProjectSettingsInput", in)
	return err
}

func (r *Remote) UpdateOrganizationLimits(ctx context.Context, in manage.UpdateOrganizationLimitsInput) error {
	_, err := r.withInput(ctx, "updateOrganizationLimits", "UpdateOrganizationLimitsInput", in)
	return err
}
