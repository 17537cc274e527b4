package budget

import (
	"fmt"

	"github.com/sluicehq/sluice/ent"
)

// ServiceSubject is a service's total spend under its own limits.
func ServiceSubject(s *ent.Service) Subject {
	return Subject{Scope: ScopeService, ID: s.ID, Name: s.ServiceName, Limits: LimitsOf(s)}
}

// KeySubject is a key's spend under its own limits where set, else its
// service's. svc may be nil for a management key.
func KeySubject(k *ent.APIKey, svc *ent.Service) Subject {
	own := LimitsOf(k)
	s := Subject{Scope: ScopeKey, ID: k.ID, Name: k.Name, Limits: own, own: own}
	if svc != nil {
		s.Limits = own.Inherit(ServiceSubject(svc).Limits)
		s.from = fmt.Sprintf("%s %q", ScopeService, svc.ServiceName)
	}
	return s
}

// OrgSubject is an organization's spend under its own limits, which cap
// all its services and keys together (its prepaid balance is checked
// separately).
func OrgSubject(o *ent.Organization) Subject {
	return Subject{Scope: ScopeOrg, ID: o.ID, Name: o.Name, Limits: LimitsOf(o)}
}
