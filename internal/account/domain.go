package account

import (
	"context"
	_ "embed"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"
)

// DomainState is the life cycle of an organization's email domain.
type DomainState string

const (
	// DomainPending: added, its TXT record not seen yet; re-checked in the
	// background until PendingUntil.
	DomainPending DomainState = "pending"
	// DomainVerified: the record was seen (or an operator marked it verified).
	DomainVerified DomainState = "verified"
	// DomainExpired: a week passed without the record; a check by hand starts
	// another week.
	DomainExpired DomainState = "expired"
)

// How a domain was verified (Domain.VerifiedBy).
const (
	VerifiedByDNS      = "dns"
	VerifiedByOperator = "operator"
)

// Domain is an email domain an organization proves it owns: a DNS TXT record at
// VerificationName holding VerificationValue.
type Domain struct {
	ID    string
	OrgID string
	Name  string // the domain, in ASCII (IDNA) lower case
	State DomainState
	// Token is the record's value: not a secret (anyone can read DNS), but random,
	// so that only someone who can write the zone can publish it.
	Token        string
	VerifiedBy   string // VerifiedByDNS or VerifiedByOperator, while verified
	VerifiedAt   time.Time
	CheckedAt    time.Time // the latest check of the record, if any
	CheckError   string    // why the latest check failed; empty once verified
	PendingUntil time.Time // when a pending domain expires
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// The DNS record that proves a domain.
const (
	DomainVerificationType   = "dns-txt"
	domainVerificationLabel  = "_roster-verification."
	domainVerificationPrefix = "roster-verification="
)

// VerificationName is where the TXT record goes: _roster-verification.<domain>.
func (d Domain) VerificationName() string { return domainVerificationLabel + d.Name }

// VerificationValue is what the TXT record holds: roster-verification=<token>.
func (d Domain) VerificationValue() string { return domainVerificationPrefix + d.Token }

// Lifetimes of a domain's verification.
const (
	// DomainPendingFor is how long a pending domain is re-checked before it expires.
	DomainPendingFor = 7 * 24 * time.Hour
	// DomainRecheckEvery is how often the background re-checks a pending domain.
	DomainRecheckEvery = 15 * time.Minute
	// maxDomainsPerOrg bounds the domains one organization may add.
	maxDomainsPerOrg = 50
	// domainLookupTimeout bounds one TXT lookup.
	domainLookupTimeout = 5 * time.Second
)

// DomainTx holds the queries of organizations' domains. Every one but
// VerifiedDomain and DuePendingDomains is scoped to one organization.
type DomainTx interface {
	// CreateDomain inserts d: ECONFLICT naming "domain" when d.OrgID has it already.
	CreateDomain(ctx context.Context, d Domain) error
	Domain(ctx context.Context, orgID, id string) (Domain, error)
	Domains(ctx context.Context, orgID string) ([]Domain, error) // by domain
	// UpdateDomain writes state, verified_by, verified_at, checked_at, check_error,
	// pending_until and updated_at: ECONFLICT naming "domain" when it would make a
	// second organization's copy of the domain verified.
	UpdateDomain(ctx context.Context, d Domain) error
	DeleteDomain(ctx context.Context, orgID, id string) error
	// VerifiedDomain returns the one verified copy of the domain name, whichever
	// organization holds it, or ENOTFOUND.
	VerifiedDomain(ctx context.Context, name string) (Domain, error)
	// DuePendingDomains lists pending domains, of every organization, not checked
	// since checkedBefore (or never), oldest check first, at most limit.
	DuePendingDomains(ctx context.Context, checkedBefore time.Time, limit int) ([]Domain, error)
	// RecordDomainJoin records that the auto join policy made accountID a member of
	// orgID: false when it had already.
	RecordDomainJoin(ctx context.Context, orgID, accountID, domain string, at time.Time) (bool, error)
}

// Resolver looks up TXT records (net.Resolver implements it).
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

//go:embed publicmail.txt
var publicMailText string

var publicMail = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(publicMailText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
})

// PublicMailDomain reports whether name (ASCII, lower case), or a domain it is under,
// is a public mail provider's: addresses anyone can get.
func PublicMailDomain(name string) bool {
	for d := name; d != ""; {
		if publicMail()[d] {
			return true
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			break
		}
		d = rest
	}
	return false
}

var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.StrictDomainName(true))

// NormalizeDomain returns name as a registrable email domain in ASCII lower case
// (IDNA: bücher.example becomes xn--bcher-kva.example): at least two labels of
// letters, digits and hyphens, no IP address, no public mail provider's. A trailing
// dot is dropped.
func NormalizeDomain(field, name string) (string, error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	if name == "" {
		return "", Invalid(field, "is required")
	}
	if err := CheckText(field, name); err != nil {
		return "", err
	}
	if len(name) > 253 {
		return "", Invalid(field, "must be at most 253 characters")
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		return "", Invalid(field, "must be a domain name, not an IP address")
	}
	if strings.ContainsAny(name, "@/:") {
		return "", Invalid(field, "must be a domain name such as example.com, without an address or a URL")
	}
	ascii, err := domainProfile.ToASCII(name)
	if err != nil {
		return "", Invalid(field, "is not a valid domain name")
	}
	ascii = strings.ToLower(ascii)
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", Invalid(field, "must have at least two labels, such as example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", Invalid(field, "is not a valid domain name")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", Invalid(field, "is not a valid domain name")
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", Invalid(field, "must end in a top-level domain, not a number")
	}
	if PublicMailDomain(ascii) {
		return "", Invalid(field, ascii+" is a public mail provider's: anyone can have an address there, so no organization can claim it")
	}
	return ascii, nil
}

// EmailDomain is the domain of an email address as NormalizeDomain writes it, or ""
// when it has none that could be verified.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	host := strings.TrimSuffix(email[at+1:], ".")
	ascii, err := domainProfile.ToASCII(host)
	if err != nil {
		return ""
	}
	return strings.ToLower(ascii)
}

// checkTXT looks the domain's record up: "" when it holds the token, else why not,
// in words an administrator can act on.
func (s *Service) checkTXT(ctx context.Context, d Domain) string {
	ctx, cancel := context.WithTimeout(ctx, domainLookupTimeout)
	defer cancel()
	records, err := s.resolver.LookupTXT(ctx, d.VerificationName()+".") // absolute: no search domains
	want := d.VerificationValue()
	for _, r := range records {
		if strings.TrimSpace(r) == want {
			return ""
		}
	}
	var dnsErr *net.DNSError
	switch {
	case err != nil && errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no TXT record found at " + d.VerificationName()
	case err != nil && errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "the DNS lookup of " + d.VerificationName() + " timed out; it is tried again"
	case err != nil:
		return "the DNS lookup of " + d.VerificationName() + " failed; it is tried again"
	case len(records) == 0:
		return "no TXT record found at " + d.VerificationName()
	}
	return "the TXT records at " + d.VerificationName() + " do not hold " + want
}
