package pace

import "github.com/sluicehq/sluice/ent"

// KeySubject is a key under its own limits where set, else its service's
// (svc may be nil: a key's own limits alone).
func KeySubject(k *ent.APIKey, svc *ent.Service) Subject {
	l := limitsOf(k.LimitRpm, k.LimitTpm, k.LimitConcurrency)
	if svc != nil {
		l = l.Inherit(ServiceSubject(svc).Limits)
	}
	return Subject{Scope: ScopeKey, ID: k.ID, Name: k.Name, Limits: l}
}

// ServiceSubject is a service under its limits.
func ServiceSubject(s *ent.Service) Subject {
	return Subject{Scope: ScopeService, ID: s.ID, Name: s.ServiceName, Limits: limitsOf(s.LimitRpm, s.LimitTpm, s.LimitConcurrency)}
}

// OrgSubject is an organization under its limits.
func OrgSubject(o *ent.Organization) Subject {
	return Subject{Scope: ScopeOrg, ID: o.ID, Name: o.Name, Limits: limitsOf(o.LimitRpm, o.LimitTpm, o.LimitConcurrency)}
}

// limitsOf reads stored limits; nil is no limit.
func limitsOf(rpm, tpm, concurrency *int64) Limits {
	var l Limits
	if rpm != nil {
		l.RPM = *rpm
	}
	if tpm != nil {
		l.TPM = *tpm
	}
	if concurrency != nil {
		l.Concurrency = *concurrency
	}
	return l
}
