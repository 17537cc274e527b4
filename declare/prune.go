package declare

import (
	"fmt"
	"slices"
	"strings"
)

// pruned reports whether the plan deletes the current service name: with
// --prune, a managed services section that no longer names it.
func (p *planner) pruned(name string) bool {
	if !p.opts.Prune || !p.f.Has(SectionServices) {
		return false
	}
	for _, s := range p.f.Services {
		if s.Name == name {
			return false
		}
	}
	return true
}

// usersAfter lists the services that use the credential key after the
// plan: the file's services as it names them, the others as they are
// unless pruned.
func (p *planner) usersAfter(key string, skip string) []string {
	uses := func(s Service) bool {
		if s.Credential != "" && credKey(s.Provider, s.Credential) == key {
			return true
		}
		return slices.ContainsFunc(s.Targets, func(t Target) bool { return credKey(t.Provider, t.Credential) == key })
	}
	var users []string
	inFile := map[string]bool{}
	if p.f.Has(SectionServices) {
		for _, s := range p.f.Services {
			inFile[s.Name] = true
			if s.Name != skip && uses(s) {
				users = append(users, s.Name)
			}
		}
	}
	for _, s := range p.cur.Services {
		if !inFile[s.Name] && s.Name != skip && !p.pruned(s.Name) && uses(s) {
			users = append(users, s.Name)
		}
	}
	return users
}

// refusePrunedCredential refuses to prune a credential that a service
// still uses after the plan, which deleting it would break.
func (p *planner) refusePrunedCredential(key string) error {
	if !p.opts.Prune {
		return nil
	}
	if users := p.usersAfter(key, ""); len(users) > 0 {
		return p.invalid("credentials", "--prune would delete credential %s, which the file no longer names, but service %s still uses it: name it again, or point the service elsewhere",
			key, strings.Join(users, ", "))
	}
	return nil
}

// goesWithService reports whether the credential key is deleted with a
// pruned service that owns it, so that it needs no deletion of its own.
func (p *planner) goesWithService(key string) bool {
	for svc, own := range p.cur.OwnedCredential {
		if own == key && p.pruned(svc) && len(p.usersAfter(key, svc)) == 0 {
			return true
		}
	}
	return false
}

// serviceDeletion is the change that prunes the current service s, its
// fields naming every row deleted with it. It refuses when that includes
// the credential made from the service's providerApiKey while the file
// still names that credential.
func (p *planner) serviceDeletion(s Service) (Change, error) {
	c := Change{Action: Delete, Kind: KindService, Name: s.Name, id: p.cur.ServiceIDs[s.Name]}
	with := func(field, what string) { c.Fields = append(c.Fields, FieldChange{Field: field, To: what}) }
	if keys := p.cur.ServiceKeys[s.Name]; len(keys) > 0 {
		with("apiKeys", fmt.Sprintf("%s deleted with it", strings.Join(keys, ", ")))
	}
	if len(s.Targets) > 0 {
		ts := make([]string, len(s.Targets))
		for i, t := range s.Targets {
			ts[i] = credKey(t.Provider, t.Credential)
		}
		with("targets", fmt.Sprintf("%s deleted with it", strings.Join(ts, ", ")))
	}
	with("budgets", "its spend and its keys' deleted with it")
	if !p.cur.OwnersKnown {
		with("apiKeys", "every key of the service deleted with it")
		with("credential", "its own credential (made from its providerApiKey), if it has one and no other service uses it, deleted with it; the admin API does not say which")
		return c, nil
	}
	own := p.cur.OwnedCredential[s.Name]
	switch {
	case own == "":
	case len(p.usersAfter(own, s.Name)) > 0:
		with("credential", fmt.Sprintf("%s (its own) kept: other services use it", own))
	default:
		if i := slices.IndexFunc(p.f.Credentials, func(c Credential) bool { return credKey(c.Provider, c.Name) == own }); i >= 0 && p.f.Has(SectionCredentials) {
			return c, p.invalid(fmt.Sprintf("credentials[%d]", i),
				"--prune would delete service %q, and with it credential %s, which was made from that service's providerApiKey and is deleted with it, though the file still names it: keep the service in the file, or leave the credential out too",
				s.Name, own)
		}
		with("credential", fmt.Sprintf("%s (made from its providerApiKey) deleted with it", own))
	}
	return c, nil
}
